export interface StoredToken {
  id: string;
  name: string;
  team: string | null;
  admin: boolean;
}

/** API tokens, kept as the SHA-256 of their value. */
export interface TokenStore {
  createToken(token: { name: string; team: string | null; admin: boolean; hash: string }): Promise<StoredToken>;
  findTokenByHash(hash: string): Promise<StoredToken | null>;
  countTokens(): Promise<number>;
}
