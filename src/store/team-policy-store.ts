import type { TeamPolicy, TeamUsage } from '../domain/team-policy.js';
import { PolicyError } from '../errors.js';
import { json, one } from './sql-helpers.js';
import type { SqlClient } from './sql.js';

/** Teams' policies (set by an admin) and what their live clusters hold against them. */
export interface TeamPolicyStore {
  teamPolicy(team: string): Promise<TeamPolicy | null>;
  /** Replaces the team's policy; null removes it. Existing clusters are left as they are. */
  setTeamPolicy(team: string, policy: TeamPolicy | null): Promise<void>;
  teamUsage(team: string): Promise<TeamUsage>;
}

/** What a write adds to its team's usage. */
export interface Growth {
  clusters: number;
  nodes: number;
}

// Any constant works as long as nothing else in the database uses it for advisory locks.
const TEAM_LOCK_CLASS = 7_243_100;

/**
 * Inside the caller's transaction: takes the team's lock, held to commit, and returns the team's
 * policy, read in the same statement. A policy with a quota takes the lock exclusively, so that two
 * requests that would both fit alone are decided one after the other; without one, creates and
 * growths of the team share it and run side by side (one team's creates were otherwise serialized,
 * at about 630 a second here). A policy is set under the exclusive lock ({@link SqlTeamPolicyStore}),
 * so that once a quota is in force every request that holds it counts what the ones sharing the
 * lock before it recorded. The read's snapshot may predate a policy set while it waited: the request
 * is then decided as if it came first.
 */
export async function lockTeam(tx: SqlClient, team: string): Promise<TeamPolicy | null> {
  const { rows } = await tx.query<{ policy: TeamPolicy | null }>(
    `SELECT policy, CASE WHEN policy ?| array['maxClusters', 'maxNodes'] THEN pg_advisory_xact_lock($1, hashtext($2))::text
         ELSE pg_advisory_xact_lock_shared($1, hashtext($2))::text END AS locked
     FROM (SELECT (SELECT policy FROM team_settings WHERE team = $2) AS policy) AS current`,
    [TEAM_LOCK_CLASS, team],
  );
  return one(rows[0]).policy;
}

/**
 * Under the team's lock ({@link lockTeam}): refuses growth beyond the limits of `policy`. Shrinking,
 * or staying put, is never refused, even over a limit lowered since: it touches nothing existing.
 * The usage is read in a statement of its own, after the lock: under READ COMMITTED a statement
 * sees what was committed when it began, and the previous holder of the lock commits while we wait.
 */
export async function holdQuota(tx: SqlClient, team: string, policy: TeamPolicy | null, growth: Growth): Promise<void> {
  if (growth.clusters <= 0 && growth.nodes <= 0) return;
  if (policy?.maxClusters === undefined && policy?.maxNodes === undefined) return;
  const usage = await readUsage(tx, team);
  const issues = [];
  if (growth.clusters > 0 && policy.maxClusters !== undefined && usage.clusters + growth.clusters > policy.maxClusters)
    issues.push({
      field: 'team',
      rule: 'quota.maxClusters',
      message: `team "${team}" has ${usage.clusters} live clusters; its limit is ${policy.maxClusters}`,
      limit: policy.maxClusters,
      usage: usage.clusters,
    });
  if (growth.nodes > 0 && policy.maxNodes !== undefined && usage.nodes + growth.nodes > policy.maxNodes)
    issues.push({
      field: 'spec.nodePools',
      rule: 'quota.maxNodes',
      message: `would add ${growth.nodes} nodes of maximum size to the ${usage.nodes} of team "${team}"; its limit is ${policy.maxNodes}`,
      limit: policy.maxNodes,
      usage: usage.nodes,
    });
  if (issues.length) throw new PolicyError(`refused by the quota of team "${team}": ${issues.map((i) => i.message).join('; ')}`, issues);
}

/** {@link holdQuota} under the team's lock, taken only when there is growth to hold. */
export async function holdTeamQuota(tx: SqlClient, team: string, growth: Growth): Promise<void> {
  if (growth.clusters <= 0 && growth.nodes <= 0) return;
  await holdQuota(tx, team, await lockTeam(tx, team), growth);
}

async function readPolicy(db: SqlClient, team: string): Promise<TeamPolicy | null> {
  const { rows } = await db.query<{ policy: TeamPolicy | null }>('SELECT policy FROM team_settings WHERE team = $1', [team]);
  return rows[0]?.policy ?? null;
}

async function readUsage(db: SqlClient, team: string): Promise<TeamUsage> {
  const { rows } = await db.query<{ clusters: number; nodes: number }>(
    'SELECT count(*)::int AS clusters, coalesce(sum(node_capacity), 0)::int AS nodes FROM clusters WHERE team = $1 AND destroyed_at IS NULL',
    [team],
  );
  return one(rows[0]);
}

/** {@link TeamPolicyStore} over PostgreSQL or PGlite. */
export class SqlTeamPolicyStore implements TeamPolicyStore {
  constructor(private readonly db: SqlClient) {}

  teamPolicy(team: string): Promise<TeamPolicy | null> {
    return readPolicy(this.db, team);
  }

  async setTeamPolicy(team: string, policy: TeamPolicy | null): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Waits for the team's requests under way, shared or not: see lockTeam.
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [TEAM_LOCK_CLASS, team]);
      await tx.query(
        `INSERT INTO team_settings (team, policy) VALUES ($1, $2::jsonb)
         ON CONFLICT (team) DO UPDATE SET policy = EXCLUDED.policy, updated_at = now()`,
        [team, policy ? json(policy) : null],
      );
    });
  }

  teamUsage(team: string): Promise<TeamUsage> {
    return readUsage(this.db, team);
  }
}
