import { randomUUID } from 'node:crypto';
import type { ClusterRecord } from '../domain/cluster.js';
import { OPERATION_KIND_EFFECTS, type OperationRecord } from '../domain/operation.js';
import type { Page } from '../domain/page.js';
import { ConflictError } from '../errors.js';
import type {
  AdmitCluster,
  ClusterFilter,
  ClusterSettings,
  ClusterStore,
  DecideChange,
  NewCluster,
  NewOperation,
} from './cluster-store.js';
import { type ClusterRow, toCluster } from './rows.js';
import { checkLimit, decodeCursor, encodeCursor, isClusterCursor, isUuid, json, MAX_PAGE_SIZE, one, page } from './sql-helpers.js';
import { LOOK_AGAIN_AT_WAITING } from './sql-maintenance-store.js';
import { insertOperation, lockChangeableCluster, setDesiredSpec } from './sql-statements.js';
import { hasSqlState, UNIQUE_VIOLATION, type SqlClient } from './sql.js';
import { holdQuota, lockTeam } from './team-policy-store.js';

/** {@link ClusterStore} over PostgreSQL or PGlite: every write that queues an operation holds the cluster row. */
export class SqlClusterStore implements ClusterStore {
  constructor(private readonly db: SqlClient) {}

  createCluster(
    draft: NewCluster,
    op: NewOperation,
    admit?: AdmitCluster,
  ): Promise<{ cluster: ClusterRecord; operation: OperationRecord }> {
    return this.db.transaction(async (tx) => {
      const policy = await lockTeam(tx, draft.team);
      const cluster = admit ? admit(policy) : draft;
      await holdQuota(tx, cluster.team, policy, { clusters: 1, nodes: cluster.nodeCapacity ?? 0 });
      let row: ClusterRow | undefined;
      try {
        ({
          rows: [row],
        } = await tx.query<ClusterRow>(
          `INSERT INTO clusters (id, name, team, blueprint, labels, spec, generation, status, drift_policy, expires_at, maintenance, node_capacity)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, 1, 'provisioning', $7, $8::timestamptz, $9::jsonb, $10) RETURNING *`,
          [
            randomUUID(),
            cluster.name,
            cluster.team,
            cluster.blueprint,
            json(cluster.labels),
            json(cluster.spec),
            cluster.driftPolicy ?? 'notify',
            cluster.expiresAt ?? null,
            cluster.maintenance ? json(cluster.maintenance) : null,
            cluster.nodeCapacity ?? 0,
          ],
        ));
      } catch (err) {
        // Only the live-name index can clash: ids are fresh UUIDs.
        if (hasSqlState(err, UNIQUE_VIOLATION)) throw new ConflictError(`a cluster named "${cluster.name}" already exists`, { cause: err });
        throw err;
      }
      const created = toCluster(one(row));
      // The policy was read under the team's lock just now: the approval rule needs no second read.
      const operation = await insertOperation(tx, created, op, { labels: [created.labels], rule: policy?.approval });
      return { cluster: created, operation };
    });
  }

  async getCluster(name: string): Promise<ClusterRecord | null> {
    // NULLS FIRST puts the live cluster (if any) ahead of the destroyed ones, newest first.
    const { rows } = await this.db.query<ClusterRow>(
      'SELECT * FROM clusters WHERE name = $1 ORDER BY destroyed_at DESC NULLS FIRST LIMIT 1',
      [name],
    );
    return rows[0] ? toCluster(rows[0]) : null;
  }

  async getClusterById(id: string): Promise<ClusterRecord | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query<ClusterRow>('SELECT * FROM clusters WHERE id = $1', [id]);
    return rows[0] ? toCluster(rows[0]) : null;
  }

  async listClusters(filter: ClusterFilter): Promise<Page<ClusterRecord>> {
    const limit = checkLimit(filter.limit, MAX_PAGE_SIZE);
    const params: unknown[] = [];
    const p = (v: unknown): string => `$${params.push(v)}`;
    const where: string[] = [];
    if (filter.team !== undefined) where.push(`team = ${p(filter.team)}`);
    if (filter.blueprint !== undefined) where.push(`blueprint = ${p(filter.blueprint)}`);
    if (filter.status !== undefined) where.push(`status = ${p(filter.status)}`);
    if (filter.labels && Object.keys(filter.labels).length > 0) where.push(`labels @> ${p(json(filter.labels))}::jsonb`);
    if (!(filter.includeDestroyed ?? filter.status === 'destroyed')) where.push('destroyed_at IS NULL');
    if (filter.cursor !== undefined) {
      const after = decodeCursor(filter.cursor, isClusterCursor);
      where.push(`(name, id) > (${p(after.name)}, ${p(after.id)}::uuid)`);
    }
    const { rows } = await this.db.query<ClusterRow>(
      `SELECT * FROM clusters ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name, id LIMIT ${p(limit + 1)}`,
      params,
    );
    return page(rows.map(toCluster), limit, (c) => encodeCursor({ name: c.name, id: c.id }));
  }

  changeCluster(
    clusterId: string,
    decide: DecideChange,
    op: Omit<NewOperation, 'kind'>,
  ): Promise<{ cluster: ClusterRecord; operation: OperationRecord | null }> {
    return this.db.transaction(async (tx) => {
      const current = await lockChangeableCluster(tx, clusterId, 'update');
      // Row, then team: the order every write that holds both takes them in.
      const policy = await lockTeam(tx, current.team);
      const { settings, update } = decide(current, policy);
      const cluster = await applySettings(tx, clusterId, settings);
      if (!update) return { cluster, operation: null };
      return setDesiredSpec(tx, clusterId, update, { ...op, kind: 'update' }, { policy });
    });
  }

  enqueueOperation(clusterId: string, op: NewOperation, check?: (cluster: ClusterRecord) => void): Promise<OperationRecord> {
    return this.db.transaction(async (tx) => {
      const cluster = await lockChangeableCluster(tx, clusterId, op.kind);
      check?.(cluster);
      const operation = await insertOperation(tx, cluster, op);
      const status = OPERATION_KIND_EFFECTS[op.kind].statusWhenQueued;
      if (status !== null) await tx.query('UPDATE clusters SET status = $2, updated_at = now() WHERE id = $1', [clusterId, status]);
      return operation;
    });
  }
}

async function applySettings(tx: SqlClient, clusterId: string, settings: ClusterSettings): Promise<ClusterRecord> {
  const params: unknown[] = [clusterId];
  const p = (v: unknown): string => `$${params.push(v)}`;
  const sets = ['updated_at = now()'];
  if (settings.driftPolicy !== undefined) sets.push(`drift_policy = ${p(settings.driftPolicy)}`);
  // A new expiry gets its own warnings.
  if (settings.expiresAt !== undefined) sets.push(`expires_at = ${p(settings.expiresAt)}::timestamptz`, `expiry_notices = '[]'`);
  if (settings.maintenance !== undefined) {
    sets.push(`maintenance = ${p(settings.maintenance && json(settings.maintenance))}::jsonb`);
    // The window its waiting operations wait for may have moved.
    await tx.query(`${LOOK_AGAIN_AT_WAITING} AND cluster_id = $1`, [clusterId]);
  }
  const { rows } = await tx.query<ClusterRow>(`UPDATE clusters SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, params);
  return toCluster(one(rows[0]));
}
