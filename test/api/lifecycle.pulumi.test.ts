import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { localSpec, startHarness, type Harness } from '../support/harness.js';

/** Reads a Server-Sent Events stream to its end. */
async function readEvents(h: Harness, id: string, lastEventId?: number) {
  const res = await fetch(`${h.url}/v1/operations/${id}/events`, {
    headers: { authorization: `Bearer ${h.adminToken}`, ...(lastEventId ? { 'last-event-id': String(lastEventId) } : {}) },
  });
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const text = await res.text();
  return text.split('\n\n').filter(Boolean).map((block) => {
    const fields = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
    return { id: fields.id ? Number(fields.id) : null, event: fields.event, data: fields.data ? JSON.parse(fields.data) : null };
  });
}

describe('a cluster through its whole life, over HTTP, with the real engine', () => {
  let h: Harness;
  const name = 'life-one';
  const clusterDir = () => path.join(h.dataDir, 'local-clusters', name);

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  it('provisions: the operation succeeds, the cluster is ready and its secrets stay secret', async () => {
    const res = await h.api('POST', '/v1/clusters', { body: { team: 'alpha', name, blueprint: 'local-files', spec: localSpec({ secretValue: 'hunter2-very-secret' }) } });
    assert.equal(res.status, 202);
    assert.equal(res.body.operation.status, 'queued');
    const op = await h.waitFor(res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.kind, 'provision');
    assert.equal(op.summary.counts.create > 0, true);
    const cluster = (await h.api('GET', `/v1/clusters/${name}`)).body;
    assert.equal(cluster.status, 'ready');
    assert.equal(cluster.appliedGeneration, 1);
    assert.equal(cluster.outputs.kubeconfig, '[secret]');
    assert.equal(cluster.outputs.secretValue, '[secret]');
    assert.ok(existsSync(path.join(clusterDir(), 'pools', 'default.json')) || readdirSync(clusterDir()).length > 0);
    const stateFiles = JSON.stringify(readdirSync(path.join(h.dataDir, 'state'), { recursive: true }));
    assert.ok(stateFiles.includes(name));
    const everything = JSON.stringify(await readEvents(h, op.id)) + JSON.stringify(op) + JSON.stringify(cluster);
    assert.ok(!everything.includes('hunter2-very-secret'), 'a secret leaked into events or answers');
  });

  it('streams events, resumes after Last-Event-ID and replays a finished operation in full', async () => {
    const history = (await h.api('GET', `/v1/clusters/${name}/operations`)).body.items;
    const id = history[0].id;
    const all = await readEvents(h, id);
    const numbered = all.filter((e) => e.id !== null);
    assert.ok(numbered.length > 3);
    assert.deepEqual(numbered.map((e) => e.id), numbered.map((_, i) => i + 1));
    assert.ok(all.some((e) => e.event === 'engine'));
    assert.deepEqual(all.at(-1), { id: null, event: 'end', data: { status: 'succeeded' } });
    const rest = await readEvents(h, id, 3);
    assert.deepEqual(rest.filter((e) => e.id !== null).map((e) => e.id), numbered.slice(3).map((e) => e.id));
  });

  it('updates: a new pool size is applied and the generation moves on', async () => {
    const res = await h.api('PATCH', `/v1/clusters/${name}`, { body: { spec: { nodePools: [{ name: 'default', size: 5 }] } } });
    assert.equal(res.status, 202);
    const op = await h.waitFor(res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.summary.counts.update, 1);
    const cluster = (await h.api('GET', `/v1/clusters/${name}`)).body;
    assert.equal(cluster.appliedGeneration, 2);
    assert.equal(cluster.appliedSpec.nodePools[0].size, 5);
  });

  it('previews without applying: nothing planned when the state matches the spec', async () => {
    const op = await h.waitFor((await h.api('POST', `/v1/clusters/${name}/preview`)).body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.deepEqual({ ...op.summary.counts, same: 0 }, { create: 0, update: 0, replace: 0, delete: 0, same: 0 });
  });

  it('reports drift with the exact property after an out-of-band change, writing nothing', async () => {
    const poolFile = findFile(clusterDir(), 'default');
    const content = JSON.parse(readFileSync(poolFile, 'utf8'));
    writeFileSync(poolFile, JSON.stringify({ ...content, size: 9 }));
    const stateBefore = snapshotState(h.dataDir);
    const op = await h.waitFor((await h.api('POST', `/v1/clusters/${name}/drift-check`)).body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const drifted = op.summary.resources.filter((r: any) => r.properties.includes('size'));
    assert.equal(drifted.length, 1, JSON.stringify(op.summary));
    assert.match(drifted[0].name, /default/);
    assert.equal(snapshotState(h.dataDir), stateBefore, 'a drift check wrote to the state');
  });

  it('refreshes the state, and an update brings the resource back to its spec', async () => {
    const refresh = await h.waitFor((await h.api('POST', `/v1/clusters/${name}/refresh`)).body.operation.id);
    assert.equal(refresh.status, 'succeeded', JSON.stringify(refresh.error));
    const update = await h.waitFor((await h.api('PATCH', `/v1/clusters/${name}`, { body: { spec: {} } })).body.operation.id);
    assert.equal(update.status, 'succeeded', JSON.stringify(update.error));
    assert.equal(JSON.parse(readFileSync(findFile(clusterDir(), 'default'), 'utf8')).size, 5);
  });

  it('destroys: files gone, stack removed, cluster destroyed, history kept', async () => {
    const res = await h.api('DELETE', `/v1/clusters/${name}`);
    const op = await h.waitFor(res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const cluster = (await h.api('GET', `/v1/clusters/${name}`)).body;
    assert.equal(cluster.status, 'destroyed');
    assert.ok(!existsSync(findFileOrNull(clusterDir(), 'default') ?? '/nonexistent'));
    const stackFiles = readdirSync(path.join(h.dataDir, 'state'), { recursive: true }).map(String).filter((f) => f.includes(`stacks/`) && f.includes(name) && f.endsWith('.json'));
    assert.deepEqual(stackFiles, []);
    const history = (await h.api('GET', `/v1/clusters/${name}/operations`)).body.items.map((o: any) => o.kind);
    assert.deepEqual(history, ['destroy', 'update', 'refresh', 'drift-check', 'preview', 'update', 'provision']);
    assert.equal((await h.api('PATCH', `/v1/clusters/${name}`, { body: { spec: {} } })).status, 409);
  });

  it('fails with an error a person can act on when the provider fails', async () => {
    const res = await h.api('POST', '/v1/clusters', { body: { team: 'alpha', name: 'fails-one', blueprint: 'local-files', spec: localSpec({ failOn: 'create' }) } });
    const op = await h.waitFor(res.body.operation.id);
    assert.equal(op.status, 'failed');
    assert.equal(op.error.code, 'resource-error');
    assert.match(op.error.detail, /failOn: create/);
    assert.ok(op.error.detail.length < 600);
    assert.equal((await h.api('GET', '/v1/clusters/fails-one')).body.status, 'failed');
  });
});

function findFileOrNull(dir: string, stem: string): string | null {
  if (!existsSync(dir)) return null;
  const hit = readdirSync(dir, { recursive: true }).map(String).find((f) => path.basename(f).startsWith(stem) && f.endsWith('.json'));
  return hit ? path.join(dir, hit) : null;
}
function findFile(dir: string, stem: string): string {
  const f = findFileOrNull(dir, stem);
  assert.ok(f, `no file ${stem}*.json under ${dir}`);
  return f;
}
function snapshotState(dataDir: string): string {
  const dir = path.join(dataDir, 'state');
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.json') && !f.includes('history') && !f.includes('locks'))
    .sort().map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
}
