import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'vitest';
import { localSpec, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';

// The tests run at once, each on a cluster of its own: enough slots that their operations run side by side.
const it = harnessTest({ env: { WORKER_CONCURRENCY: '4' } });

/** Reads a Server-Sent Events stream to its end. */
async function readEvents(h: Harness, id: string, lastEventId?: number) {
  const res = await fetch(`${h.url}/v1/operations/${id}/events`, {
    headers: { authorization: `Bearer ${h.adminToken}`, ...(lastEventId ? { 'last-event-id': String(lastEventId) } : {}) },
  });
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const text = await res.text();
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const fields = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
      return { id: fields.id ? Number(fields.id) : null, event: fields.event, data: fields.data ? JSON.parse(fields.data) : null };
    });
}

/** Waits for an operation to end; it may first queue behind the other tests' operations. */
const settled = (h: Harness, operationId: string) => h.waitFor(operationId, undefined, 300_000);

/** A cluster name no other test uses. */
const uniqueName = (stem: string) => `${stem}-${randomUUID().slice(0, 8)}`;
const clusterDirOf = (h: Harness, name: string) => path.join(h.dataDir, 'local-clusters', name);

/** A fresh cluster of this test's own, provisioned and ready. */
async function provisioned(h: Harness, stem: string, spec = localSpec()): Promise<string> {
  const name = uniqueName(stem);
  const res = await h.api('POST', '/v1/clusters', { body: { team: 'alpha', name, blueprint: 'local-files', spec } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const op = await settled(h, res.body.operation.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  return name;
}

describe.concurrent('a cluster through its whole life, over HTTP, with the real engine', () => {
  it('provisions: the operation succeeds, the cluster is ready and its secrets stay secret', async ({ harness: h }) => {
    const name = uniqueName('life-provision');
    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name, blueprint: 'local-files', spec: localSpec({ secretValue: 'hunter2-very-secret' }) },
    });
    assert.equal(res.status, 202);
    assert.equal(res.body.operation.status, 'queued');
    const op = await settled(h, res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.kind, 'provision');
    assert.equal(op.summary.counts.create > 0, true);
    const cluster = (await h.api('GET', `/v1/clusters/${name}`)).body;
    assert.equal(cluster.status, 'ready');
    assert.equal(cluster.appliedGeneration, 1);
    assert.equal(cluster.outputs.kubeconfig, '[secret]');
    assert.equal(cluster.outputs.secretValue, '[secret]');
    const clusterDir = clusterDirOf(h, name);
    assert.ok(existsSync(path.join(clusterDir, 'pools', 'default.json')) || readdirSync(clusterDir).length > 0);
    const stateFiles = JSON.stringify(readdirSync(path.join(h.dataDir, 'state'), { recursive: true }));
    assert.ok(stateFiles.includes(name));
    const everything = JSON.stringify(await readEvents(h, op.id)) + JSON.stringify(op) + JSON.stringify(cluster);
    assert.ok(!everything.includes('hunter2-very-secret'), 'a secret leaked into events or answers');
  });

  it('streams events, resumes after Last-Event-ID and replays a finished operation in full', async ({ harness: h }) => {
    const name = await provisioned(h, 'life-stream');
    const history = (await h.api('GET', `/v1/clusters/${name}/operations`)).body.items;
    const id = history[0].id;
    const all = await readEvents(h, id);
    const numbered = all.filter((e) => e.id !== null);
    assert.ok(numbered.length > 3);
    assert.deepEqual(
      numbered.map((e) => e.id),
      numbered.map((_, i) => i + 1),
    );
    assert.ok(all.some((e) => e.event === 'engine'));
    assert.deepEqual(all.at(-1), { id: null, event: 'end', data: { status: 'succeeded' } });
    const rest = await readEvents(h, id, 3);
    assert.deepEqual(
      rest.filter((e) => e.id !== null).map((e) => e.id),
      numbered.slice(3).map((e) => e.id),
    );
  });

  it('updates: a new pool size is applied and the generation moves on', async ({ harness: h }) => {
    const name = await provisioned(h, 'life-update');
    const res = await h.api('PATCH', `/v1/clusters/${name}`, { body: { spec: { nodePools: [{ name: 'default', size: 5 }] } } });
    assert.equal(res.status, 202);
    const op = await settled(h, res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.summary.counts.update, 1);
    const cluster = (await h.api('GET', `/v1/clusters/${name}`)).body;
    assert.equal(cluster.appliedGeneration, 2);
    assert.equal(cluster.appliedSpec.nodePools[0].size, 5);
  });

  it('previews without applying: nothing planned when the state matches the spec', async ({ harness: h }) => {
    const name = await provisioned(h, 'life-preview');
    const op = await settled(h, (await h.api('POST', `/v1/clusters/${name}/preview`)).body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.deepEqual({ ...op.summary.counts, same: 0 }, { create: 0, update: 0, replace: 0, delete: 0, same: 0 });
  });

  it('reports drift with the exact property after an out-of-band change, writing nothing', async ({ harness: h }) => {
    const name = await provisioned(h, 'life-drift');
    const poolFile = findFile(clusterDirOf(h, name), 'default');
    const content = JSON.parse(readFileSync(poolFile, 'utf8'));
    writeFileSync(poolFile, JSON.stringify({ ...content, size: 9 }));
    const stateBefore = snapshotState(h.dataDir, name);
    const op = await settled(h, (await h.api('POST', `/v1/clusters/${name}/drift-check`)).body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const drifted = op.summary.resources.filter((r: any) => r.properties.includes('size'));
    assert.equal(drifted.length, 1, JSON.stringify(op.summary));
    assert.match(drifted[0].name, /default/);
    assert.equal(snapshotState(h.dataDir, name), stateBefore, 'a drift check wrote to the state');
  });

  it('refreshes the state, and an update brings the resource back to its spec', async ({ harness: h }) => {
    const name = await provisioned(h, 'life-refresh', localSpec({ nodePools: [{ name: 'default', size: 5 }] }));
    // The out-of-band change the refresh takes into the state.
    const poolFile = findFile(clusterDirOf(h, name), 'default');
    writeFileSync(poolFile, JSON.stringify({ ...JSON.parse(readFileSync(poolFile, 'utf8')), size: 9 }));
    const refresh = await settled(h, (await h.api('POST', `/v1/clusters/${name}/refresh`)).body.operation.id);
    assert.equal(refresh.status, 'succeeded', JSON.stringify(refresh.error));
    const update = await settled(h, (await h.api('PATCH', `/v1/clusters/${name}`, { body: { spec: {} } })).body.operation.id);
    assert.equal(update.status, 'succeeded', JSON.stringify(update.error));
    assert.equal(JSON.parse(readFileSync(findFile(clusterDirOf(h, name), 'default'), 'utf8')).size, 5);
  });

  it('destroys: files gone, stack removed, cluster destroyed, history kept', async ({ harness: h }) => {
    const name = await provisioned(h, 'life-destroy');
    const update = await settled(
      h,
      (await h.api('PATCH', `/v1/clusters/${name}`, { body: { spec: { nodePools: [{ name: 'default', size: 5 }] } } })).body.operation.id,
    );
    assert.equal(update.status, 'succeeded', JSON.stringify(update.error));
    const res = await h.api('DELETE', `/v1/clusters/${name}`);
    const op = await settled(h, res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const cluster = (await h.api('GET', `/v1/clusters/${name}`)).body;
    assert.equal(cluster.status, 'destroyed');
    assert.ok(!existsSync(findFileOrNull(clusterDirOf(h, name), 'default') ?? '/nonexistent'));
    const stackFiles = readdirSync(path.join(h.dataDir, 'state'), { recursive: true })
      .map(String)
      .filter((f) => f.includes(`stacks/`) && f.includes(name) && f.endsWith('.json'));
    assert.deepEqual(stackFiles, []);
    const history = (await h.api('GET', `/v1/clusters/${name}/operations`)).body.items.map((o: any) => o.kind);
    assert.deepEqual(history, ['destroy', 'update', 'provision']);
    assert.equal((await h.api('PATCH', `/v1/clusters/${name}`, { body: { spec: {} } })).status, 409);
  });

  it('fails with an error a person can act on when the provider fails', async ({ harness: h }) => {
    const name = uniqueName('life-fails');
    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name, blueprint: 'local-files', spec: localSpec({ failOn: 'create' }) },
    });
    const op = await settled(h, res.body.operation.id);
    assert.equal(op.status, 'failed');
    assert.equal(op.error.code, 'resource-error');
    assert.match(op.error.detail, /failOn: create/);
    assert.ok(op.error.detail.length < 600);
    assert.equal((await h.api('GET', `/v1/clusters/${name}`)).body.status, 'failed');
  });
});

function findFileOrNull(dir: string, stem: string): string | null {
  if (!existsSync(dir)) return null;
  const hit = readdirSync(dir, { recursive: true })
    .map(String)
    .find((f) => path.basename(f).startsWith(stem) && f.endsWith('.json'));
  return hit ? path.join(dir, hit) : null;
}
function findFile(dir: string, stem: string): string {
  const f = findFileOrNull(dir, stem);
  assert.ok(f, `no file ${stem}*.json under ${dir}`);
  return f;
}
/** The state files of one cluster's stack (the other tests' stacks change meanwhile). */
function snapshotState(dataDir: string, name: string): string {
  const dir = path.join(dataDir, 'state');
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.includes(name) && f.endsWith('.json') && !f.includes('history') && !f.includes('locks'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
}
