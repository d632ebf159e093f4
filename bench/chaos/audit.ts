/**
 * What the audit reads once the run is over: the records (read-only queries), the API's answers
 * for every accepted operation, the state backend's lock files and the "cloud" (the test
 * blueprint's files).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { AttemptStart } from './journal.js';
import type { ClusterRow, OperationRow } from './figures.js';

export async function operationRows(records: pg.Pool): Promise<OperationRow[]> {
  const { rows } = await records.query<{
    id: string;
    name: string;
    kind: string;
    status: string;
    attempts: number;
    code: string | null;
    finished_at: Date | null;
  }>(
    `SELECT o.id, c.name, o.kind, o.status, o.attempts, o.error->>'code' AS code, o.finished_at
     FROM operations o JOIN clusters c ON c.id = o.cluster_id ORDER BY o.seq`,
  );
  return rows.map((r) => ({
    id: r.id,
    cluster: r.name,
    kind: r.kind,
    status: r.status,
    attempts: r.attempts,
    errorCode: r.code,
    finishedAt: r.finished_at?.getTime() ?? null,
  }));
}

export async function clusterRows(records: pg.Pool): Promise<ClusterRow[]> {
  const { rows } = await records.query<{ name: string; status: string; needs_recovery: boolean }>(
    'SELECT name, status, needs_recovery FROM clusters ORDER BY name, created_at',
  );
  return rows.map((r) => ({ name: r.name, status: r.status, needsRecovery: r.needs_recovery }));
}

/** Every attempt's start, from its `status: running` event. */
export async function attemptStarts(records: pg.Pool): Promise<AttemptStart[]> {
  const { rows } = await records.query<{ name: string; operation_id: string; attempt: string | null; at: Date }>(
    `SELECT c.name, e.operation_id, e.data->>'attempt' AS attempt, e.at
     FROM operation_events e JOIN operations o ON o.id = e.operation_id JOIN clusters c ON c.id = o.cluster_id
     WHERE e.type = 'status' AND e.data->>'status' = 'running' ORDER BY e.at`,
  );
  return rows.map((r) => ({ cluster: r.name, operationId: r.operation_id, attempt: Number(r.attempt ?? 0), at: r.at.getTime() }));
}

/** Operations not finished yet. */
export async function unfinished(records: pg.Pool): Promise<number> {
  const { rows } = await records.query<{ n: number }>(`SELECT count(*)::int AS n FROM operations WHERE status IN ('queued', 'running')`);
  return rows[0]?.n ?? 0;
}

/** Ids among `ids` the API does not know (404). Other answers are retried: the API is up at the end. */
export async function missingOperations(ids: string[], api: { url: string; token: string }): Promise<string[]> {
  const missing: string[] = [];
  for (const id of ids) {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${api.url}/v1/operations/${id}`, { headers: { authorization: `Bearer ${api.token}` } }).catch(() => null);
      if (res?.status === 404) missing.push(id);
      if (res && res.status < 500) break;
      if (attempt >= 10) throw new Error(`GET /v1/operations/${id} kept failing (${res?.status ?? 'no answer'})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return missing;
}

/** Lock files of the file:// backend (`<state>/.pulumi/locks/**.json`), relative to the locks directory. */
export async function lockFiles(dataDir: string): Promise<string[]> {
  const root = path.join(dataDir, 'state', '.pulumi', 'locks');
  const found: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.endsWith('.json')) found.push(path.relative(root, full));
    }
  };
  await walk(root);
  return found;
}

/** Destroyed clusters (with no live cluster of the same name) whose files are still there. */
export function leftoverFiles(dataDir: string, clusters: ClusterRow[]): string[] {
  const live = new Set(clusters.filter((c) => c.status !== 'destroyed').map((c) => c.name));
  const destroyed = new Set(clusters.filter((c) => c.status === 'destroyed' && !live.has(c.name)).map((c) => c.name));
  return [...destroyed].filter((name) => existsSync(path.join(dataDir, 'local-clusters', name)));
}

export async function readJournalText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => '');
}
