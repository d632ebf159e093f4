/** Who is calling: a token bound to a team, or an admin token (team null). */
export interface Principal {
  tokenId: string;
  name: string;
  team: string | null;
  admin: boolean;
}
