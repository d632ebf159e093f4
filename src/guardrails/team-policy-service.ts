import type { Principal } from '../auth/principal.js';
import type { TeamPolicy, TeamUsage } from '../domain/team-policy.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { TeamPolicyStore } from '../store/team-policy-store.js';
import type { TeamPolicyBody } from './policy-schema.js';

/** A team's policy with what its live clusters hold against each limit. */
export interface TeamOverview {
  team: string;
  policy: TeamPolicy | null;
  usage: TeamUsage;
  /** Each limit the policy sets, with the usage against it and the room left (negative when a limit was lowered below the usage). */
  limits: Array<{ rule: 'quota.maxClusters' | 'quota.maxNodes'; limit: number; usage: number; remaining: number }>;
}

/** Teams' policies: set by an admin, read by the team too, with their usage. */
export class TeamPolicyService {
  constructor(private readonly deps: { store: TeamPolicyStore }) {}

  async policy(principal: Principal, team: string): Promise<TeamPolicy | null> {
    this.checkVisible(principal, team);
    return this.deps.store.teamPolicy(team);
  }

  /** Replaces the policy (null removes it). Existing clusters are left as they are: only new growth is held to it. */
  async setPolicy(principal: Principal, team: string, body: TeamPolicyBody | null): Promise<TeamPolicy | null> {
    if (!principal.admin) throw new ForbiddenError("a team's policy is set by an admin");
    await this.deps.store.setTeamPolicy(team, body);
    return body;
  }

  async overview(principal: Principal, team: string): Promise<TeamOverview> {
    this.checkVisible(principal, team);
    const [policy, usage] = await Promise.all([this.deps.store.teamPolicy(team), this.deps.store.teamUsage(team)]);
    const limits: TeamOverview['limits'] = [];
    if (policy?.maxClusters !== undefined)
      limits.push({
        rule: 'quota.maxClusters',
        limit: policy.maxClusters,
        usage: usage.clusters,
        remaining: policy.maxClusters - usage.clusters,
      });
    if (policy?.maxNodes !== undefined)
      limits.push({ rule: 'quota.maxNodes', limit: policy.maxNodes, usage: usage.nodes, remaining: policy.maxNodes - usage.nodes });
    return { team, policy, usage, limits };
  }

  /** Another team's settings do not exist for this caller. */
  private checkVisible(principal: Principal, team: string): void {
    if (!principal.admin && principal.team !== team) throw new NotFoundError(`no team named "${team}" visible to this token`);
  }
}
