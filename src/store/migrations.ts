import type { SqlClient } from './sql.js';
import { initial } from './migrations/001-initial.js';
import { driftAndExpiry } from './migrations/003-drift-and-expiry.js';
import { webhooks } from './migrations/002-webhooks.js';
import { kubeconfigReads } from './migrations/004-kubeconfig-reads.js';
import { fencedLane } from './migrations/005-fenced-lane.js';
import { retention } from './migrations/006-retention.js';
import { operationNotifications } from './migrations/007-operation-notifications.js';
import { outbox } from './migrations/008-outbox.js';
import { expirySettled } from './migrations/009-expiry-settled.js';
import { rollouts } from './migrations/010-rollouts.js';
import { maintenance } from './migrations/011-maintenance.js';
import { rolloutEvents } from './migrations/012-rollout-events.js';
import { rolloutPreviews } from './migrations/013-rollout-previews.js';
import { supportNotices } from './migrations/014-support-notices.js';
import { teamPolicies } from './migrations/015-team-policies.js';
import { tokenRoles } from './migrations/016-token-roles.js';
import { operationApprovals } from './migrations/017-operation-approvals.js';
import { lanesHeld } from './migrations/018-lanes-held.js';
import { operationTraces } from './migrations/019-operation-traces.js';
import { serviceProcesses } from './migrations/020-service-processes.js';
import { fleetReadIndexes } from './migrations/021-fleet-read-indexes.js';

/** One schema change. Statements run in order, in the same transaction as the others pending. */
export interface Migration {
  /** Strictly increasing, starting at 1; never renumber one that has shipped. */
  version: number;
  /** Short kebab-case description, recorded in `schema_migrations`. */
  name: string;
  /** One SQL statement each (PGlite's extended protocol takes one statement per call). */
  statements: string[];
}

/** Every migration, oldest first. Append new ones here. */
export const MIGRATIONS: readonly Migration[] = [
  initial,
  webhooks,
  driftAndExpiry,
  kubeconfigReads,
  fencedLane,
  retention,
  operationNotifications,
  outbox,
  expirySettled,
  rollouts,
  maintenance,
  rolloutEvents,
  rolloutPreviews,
  supportNotices,
  teamPolicies,
  tokenRoles,
  operationApprovals,
  lanesHeld,
  operationTraces,
  serviceProcesses,
  fleetReadIndexes,
];

// Any constant works as long as nothing else in the database uses it for an advisory lock.
const MIGRATION_LOCK_KEY = 7_243_100_001;

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in version order, in one
 * transaction. The transaction holds an advisory lock, so processes migrating the same database
 * at once queue up and the later ones find nothing left to do.
 * @returns the versions applied by this call (empty when already up to date)
 */
export async function migrate(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      for (const statement of m.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
