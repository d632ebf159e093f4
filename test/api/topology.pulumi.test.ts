import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { localSpec, redisUrl, TEST_BLUEPRINT } from '../support/harness.js';
import { spawnService, type ServiceProcess } from '../support/service-process.js';
import { until as waitUntil } from '../support/until.js';

/**
 * The many-machine shape on one machine: two API and two worker processes that share nothing on disk
 * (each its own data directory, as separate machines have), only the records in PostgreSQL, the queue
 * in Redis, and Pulumi's state in its PostgreSQL backend, with the passphrase and the records key in
 * their environment. The test blueprint's "cloud" is a directory they all reach (LOCAL_FILES_ROOT).
 */
describe('two API and two worker processes sharing only PostgreSQL, Redis and the state backend', () => {
  const base = new URL(process.env.TEST_DATABASE_URL!);
  const suffix = randomUUID().replaceAll('-', '').slice(0, 12);
  const recordsDb = `clusterd_topo_${suffix}`;
  const stateDb = `clusterd_topo_state_${suffix}`;
  const dbUrl = (name: string) => Object.assign(new URL(base), { pathname: `/${name}` }).toString();
  const adminToken = `cld_${randomBytes(32).toString('base64url')}`;
  const dirs: string[] = [];
  let env: Record<string, string>;
  let records: pg.Client;
  const apis: ServiceProcess[] = [];
  const workers: ServiceProcess[] = [];

  const tempDir = async (name: string) => {
    const dir = await mkdtemp(path.join(tmpdir(), `clusterd-topo-${name}-`));
    dirs.push(dir);
    return dir;
  };
  const startProcess = async (role: 'api' | 'worker') =>
    spawnService({ ...env, CLUSTERD_ROLE: role, CLUSTERD_DATA_DIR: await tempDir(role) }, [], 180_000);
  const startWorker = async () => {
    const worker = await startProcess('worker');
    workers.push(worker);
    return worker;
  };

  async function call(api: ServiceProcess, method: string, p: string, body?: unknown) {
    const res = await fetch(api.url + p, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
  const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitUntil(what, probe, 180_000);
  const settled = (api: ServiceProcess, id: string, statuses = ['succeeded', 'failed', 'cancelled', 'superseded']) =>
    until(`operation ${id} ${statuses.join('/')}`, async () => {
      const res = await call(api, 'GET', `/v1/operations/${id}`);
      return statuses.includes(res.body?.status) ? res.body : undefined;
    });
  /** Accepted by one API, its end seen through the other. */
  async function run(via: ServiceProcess, seenBy: ServiceProcess, method: string, p: string, body?: unknown) {
    const res = await call(via, method, p, body);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return settled(seenBy, res.body.operation.id);
  }
  const alive = () => workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  const scrape = async (w: ServiceProcess) => (await fetch(`${w.url}/metrics`)).text();
  const rssMiB = async (p: ServiceProcess) =>
    Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${p.child.pid}/status`, 'utf8'))![1]) / 1024);

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: base.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${recordsDb}`);
    await admin.query(`CREATE DATABASE ${stateDb}`);
    await admin.end();
    records = new pg.Client({ connectionString: dbUrl(recordsDb) });
    const tokenFile = path.join(await tempDir('secret'), 'token');
    await writeFile(tokenFile, `${adminToken}\n`, { mode: 0o600 });
    env = {
      DATABASE_URL: dbUrl(recordsDb),
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: `{topo-${suffix}}`,
      PULUMI_BACKEND_URL: `${dbUrl(stateDb)}?sslmode=disable`,
      PULUMI_CONFIG_PASSPHRASE: 'topology-passphrase-not-secret',
      CLUSTERD_RECORDS_KEY: randomBytes(32).toString('base64'),
      CLUSTERD_ADMIN_TOKEN_FILE: tokenFile,
      CLUSTERD_BLUEPRINT_MODULES: TEST_BLUEPRINT,
      LOCAL_FILES_ROOT: await tempDir('cloud'),
      CLUSTERD_ENGINE_ENV: 'GOGC,LOCAL_FILES_ROOT',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      WORKER_CONCURRENCY: '1',
      WORKER_LANE_LEASE_MS: '6000',
      RECONCILE_INTERVAL_MS: '2000',
      HTTP_SHUTDOWN_GRACE_MS: '2000',
      DRIFT_MAX_CONCURRENT_CHECKS: '4',
    };
    // The first process migrates the records; the others find them done.
    apis.push(await startProcess('api'));
    [apis[1]] = await Promise.all([startProcess('api'), startWorker(), startWorker()]);
    await records.connect();
  }, 300_000);

  afterAll(async () => {
    await Promise.all([...apis, ...workers].map((p) => p.stop(10_000)));
    await records?.end().catch(() => undefined);
    const admin = new pg.Client({ connectionString: base.toString() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${recordsDb} WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS ${stateDb} WITH (FORCE)`);
    await admin.end();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('provisions, changes and destroys a cluster through either API, its state in PostgreSQL, and reads its kubeconfig through the other', async () => {
    const [a, b] = apis as [ServiceProcess, ServiceProcess];
    const name = `topo-life-${suffix.slice(0, 6)}`;
    const created = await run(a, b, 'POST', '/v1/clusters', { team: 'alpha', name, blueprint: 'local-files', spec: localSpec() });
    assert.equal(created.status, 'succeeded', JSON.stringify(created.error));
    const state = new pg.Client({ connectionString: dbUrl(stateDb) });
    await state.connect();
    try {
      const stackRows = async () => (await state.query(`SELECT key FROM pulumi_state WHERE key LIKE $1`, [`%${name}%`])).rows.length;
      assert.ok((await stackRows()) > 0, "the stack's state is in the PostgreSQL backend");
      const changed = await run(b, a, 'PATCH', `/v1/clusters/${name}`, { spec: { nodePools: [{ name: 'default', size: 3 }] } });
      assert.equal(changed.status, 'succeeded', JSON.stringify(changed.error));
      const kubeconfig = await call(b, 'GET', `/v1/clusters/${name}/kubeconfig`);
      assert.equal(kubeconfig.status, 200, JSON.stringify(kubeconfig.body));
      assert.equal(JSON.parse(kubeconfig.body.kubeconfig).kind, 'Config');
      const destroyed = await run(a, b, 'DELETE', `/v1/clusters/${name}`);
      assert.equal(destroyed.status, 'succeeded', JSON.stringify(destroyed.error));
      assert.equal((await call(b, 'GET', `/v1/clusters/${name}`)).body.status, 'destroyed');
      const left = (await state.query<{ key: string }>(`SELECT key FROM pulumi_state WHERE key LIKE $1`, [`%${name}%`])).rows.map(
        (r) => r.key,
      );
      assert.deepEqual(
        left.filter((k) => k.includes('/stacks/') && k.endsWith('.json')),
        [],
        left.join(', '),
      );
    } finally {
      await state.end();
    }
    for (const dir of dirs) assert.ok(!existsSync(path.join(dir, 'state')), `no state on disk in ${dir}`);
  });

  it('finishes on the other worker an operation whose worker was SIGKILLed, breaking its lock in the shared backend; a worker restarted with an empty data directory carries on', async () => {
    const [a, b] = apis as [ServiceProcess, ServiceProcess];
    const name = `topo-kill-${suffix.slice(0, 6)}`;
    assert.equal(
      (await run(a, b, 'POST', '/v1/clusters', { team: 'alpha', name, blueprint: 'local-files', spec: localSpec() })).status,
      'succeeded',
    );
    const accepted = await call(b, 'PATCH', `/v1/clusters/${name}`, { spec: { delayMs: 5000, nodePools: [{ name: 'default', size: 4 }] } });
    assert.equal(accepted.status, 202);
    const opId = accepted.body.operation.id as string;
    // The lane's holder names its process: `<host>:<pid>:<id>`.
    const owner = await until('the update running', async () => {
      const { rows } = await records.query<{ lane_owner: string | null; status: string }>(
        `SELECT c.lane_owner, o.status FROM clusters c JOIN operations o ON o.cluster_id = c.id WHERE o.id = $1`,
        [opId],
      );
      return rows[0]?.status === 'running' && rows[0].lane_owner ? rows[0].lane_owner : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500));
    const victim = workers.find((w) => w.child.pid === Number(owner.split(':')[1]))!;
    assert.ok(victim, `a worker of this test holds the lane (${owner})`);
    victim.child.kill('SIGKILL');
    await victim.exited;

    const op = await settled(a, opId);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.attempts, 2, 'started again by the other worker');
    const { rows: recovery } = await records.query(
      `SELECT 1 FROM operation_events WHERE operation_id = $1 AND data::text LIKE '%recovery: lock released%'`,
      [opId],
    );
    assert.equal(recovery.length, 1, 'the dead run left its lock in the backend; the other worker broke it');

    // The survivor stops; a worker with an empty data directory (no workspace, no plugin cache of ours) takes the cluster on.
    const [survivor] = alive() as [ServiceProcess];
    const fresh = await startWorker();
    await survivor.stop();
    const next = await run(b, a, 'PATCH', `/v1/clusters/${name}`, { spec: { delayMs: 0, nodePools: [{ name: 'default', size: 5 }] } });
    assert.equal(next.status, 'succeeded', JSON.stringify(next.error));
    assert.equal(next.attempts, 1);
    assert.equal(alive().length, 1);
    assert.equal(alive()[0], fresh);
    await startWorker();
  });

  it('refuses to start a process whose state backend the others do not share, saying why', async () => {
    const spawnWith = async (extra: Record<string, string>) =>
      spawnService({ ...env, CLUSTERD_ROLE: 'worker', CLUSTERD_DATA_DIR: await tempDir('refused'), ...extra }, [], 60_000);
    // Another backend than the running processes' (a postgres:// database of its own).
    await assert.rejects(
      spawnWith({ PULUMI_BACKEND_URL: `${dbUrl(`${stateDb}_other`)}?sslmode=disable` }),
      /PULUMI_BACKEND_URL is postgres:.*but (api|worker) process .* shares these records with postgres:.*every process of one service must use the same state backend/,
    );
    // A file:// backend while a process on another machine shares the records (a row as that machine's process keeps it).
    const file = `file://${await tempDir('state')}`;
    await records.query(
      `INSERT INTO service_processes (id, host, role, backend) VALUES ('elsewhere:1:x', 'another-machine', 'worker', $1)`,
      [file],
    );
    try {
      await assert.rejects(
        spawnWith({ PULUMI_BACKEND_URL: file }),
        /the state backend file:.* is a directory of this machine .* but worker process elsewhere:1:x on another-machine shares these records: processes on several machines need a backend they all reach/,
      );
    } finally {
      await records.query(`DELETE FROM service_processes WHERE id = 'elsewhere:1:x'`);
    }
    assert.equal(alive().length, 2, 'the running workers are untouched');
  });

  it('spreads a drift sweep over both workers', async () => {
    const [a, b] = apis as [ServiceProcess, ServiceProcess];
    const names = [0, 1, 2, 3].map((i) => `topo-sweep-${i}-${suffix.slice(0, 6)}`);
    const created = await Promise.all(
      names.map((name, i) =>
        run(i % 2 ? a : b, i % 2 ? b : a, 'POST', '/v1/clusters', {
          team: 'beta',
          name,
          blueprint: 'local-files',
          spec: localSpec({ readDelayMs: 1500 }),
        }),
      ),
    );
    assert.deepEqual(
      created.map((o) => o.status),
      ['succeeded', 'succeeded', 'succeeded', 'succeeded'],
    );
    const [first, second] = alive() as [ServiceProcess, ServiceProcess];
    const checksBy = async (w: ServiceProcess) =>
      Number(
        /^clusterd_operations_finished_total\{kind="drift-check",blueprint="local-files",outcome="succeeded"\} (\d+)/m.exec(
          await scrape(w),
        )?.[1] ?? 0,
      );
    const before = [await checksBy(first), await checksBy(second)];
    const sweep = await call(a, 'POST', '/v1/drift/sweeps');
    assert.equal(sweep.status, 202, JSON.stringify(sweep.body));
    const done = await until('the sweep', async () => {
      const res = await call(b, 'GET', `/v1/drift/sweeps/${sweep.body.id}`);
      return res.body.status === 'running' ? undefined : res.body;
    });
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    const checked = await until('every check counted', async () => {
      const counts = [(await checksBy(first)) - before[0]!, (await checksBy(second)) - before[1]!];
      return counts[0]! + counts[1]! >= names.length ? counts : undefined;
    });
    assert.ok(
      checked.every((n) => n > 0),
      `both workers ran checks: ${checked.join(' and ')}`,
    );

    const memory = await Promise.all([...apis, ...alive()].map(rssMiB));
    console.log(`[topology] RSS after the sweep: API ${memory[0]} and ${memory[1]} MiB, workers ${memory[2]} and ${memory[3]} MiB`);
  });
});
