import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCK_FILE, LockLostError, RecordStoreInUseError } from '../../src/store/directory-lock.js';
import { openPglite } from '../../src/store/pglite-client.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { openDatabase } from '../../src/store/open-store.js';
import { copyPgliteTemplate } from '../support/pglite-template.js';
import type { SqlClient } from '../../src/store/sql.js';
import { childrenNamed } from '../support/processes.js';

/** Polls until `check` holds; generous, for a loaded machine. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('the embedded store has one owner', () => {
  let root: string;
  let n = 0;
  const fresh = async () => {
    const dir = path.join(root, `records-${++n}`);
    await copyPgliteTemplate(dir);
    return dir;
  };
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'clusterd-lock-'));
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('refuses a second opening of the directory, naming the owner and what to configure, while the first keeps its rows', async () => {
    const dir = await fresh();
    const first = await openPglite(dir);
    try {
      await first.query('CREATE TABLE kept (n int)');
      await first.query('INSERT INTO kept SELECT generate_series(1, 400)');
      const refused = await openPglite(dir, { lockWaitMs: 200 }).then(
        (second) => second.close().then(() => assert.fail('a second client opened the directory')),
        (err: unknown) => err,
      );
      assert.ok(refused instanceof RecordStoreInUseError, String(refused));
      assert.match(refused.message, new RegExp(`already open in process ${process.pid} on `));
      assert.match(refused.message, /set DATABASE_URL to a PostgreSQL database/);
      assert.match(refused.message, /another CLUSTERD_DATA_DIR/);
      assert.deepEqual((await first.query<{ n: number }>('SELECT count(*)::int AS n FROM kept')).rows, [{ n: 400 }]);
    } finally {
      await first.close();
    }
  });

  it('opens an empty data directory migrated, in a second instance that holds the directory as the first did', async () => {
    const dataDir = path.join(root, `data-${++n}`);
    const db = await openDatabase({ dataDir });
    try {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal(rows[0]!.n, MIGRATIONS.length);
      const refused = await openPglite(path.join(dataDir, 'records'), { lockWaitMs: 200 }).then(
        (second) => second.close().then(() => assert.fail('a second client opened the directory')),
        (err: unknown) => err,
      );
      assert.ok(refused instanceof RecordStoreInUseError, String(refused));
    } finally {
      await db.close();
    }
  });

  it('is released by close: the directory opens again at once, with its rows', async () => {
    const dir = await fresh();
    const first = await openPglite(dir);
    await first.query('CREATE TABLE kept (n int)');
    await first.query('INSERT INTO kept VALUES (1), (2)');
    await first.close();
    const again = await openPglite(dir, { lockWaitMs: 0 });
    try {
      assert.deepEqual((await again.query<{ n: number }>('SELECT count(*)::int AS n FROM kept')).rows, [{ n: 2 }]);
    } finally {
      await again.close();
    }
  });

  it('waits for an owner that lets go within the wait', async () => {
    const dir = await fresh();
    const first = await openPglite(dir);
    const second = openPglite(dir, { lockWaitMs: 60_000 });
    await sleep(300);
    await first.close();
    await (await second).close();
  });

  it('refuses every statement and says so once when its lock helper is killed', async () => {
    const dir = await fresh();
    const lost: LockLostError[] = [];
    const client: SqlClient = await openPglite(dir, { onLockLost: (err) => lost.push(err) });
    try {
      await client.query('CREATE TABLE t (n int)');
      const helpers = await childrenNamed(process.pid, 'flock');
      assert.equal(helpers.length, 1, `one flock helper for the one open store: ${helpers.join(', ')}`);
      process.kill(helpers[0]!, 'SIGKILL');
      await eventually(() => lost.length > 0, 'the lost lock to be reported');
      assert.match(lost[0]!.message, /lost the lock on the embedded record store .*the flock helper \(pid \d+\) exited \(SIGKILL\)/);
      await assert.rejects(client.query('INSERT INTO t VALUES (1)'), LockLostError);
      await assert.rejects(
        client.transaction((tx) => tx.query('INSERT INTO t VALUES (2)')),
        LockLostError,
      );
      assert.equal(lost.length, 1);
    } finally {
      await client.close();
    }
    // The kernel released it with the helper: the directory is free.
    await (await openPglite(dir, { lockWaitMs: 0 })).close();
  });

  it('refuses every statement when its lock file is deleted under it (another process could lock a new one)', async () => {
    const dir = await fresh();
    const lost: LockLostError[] = [];
    const client = await openPglite(dir, { onLockLost: (err) => lost.push(err) });
    try {
      await rm(path.join(dir, LOCK_FILE));
      await eventually(() => lost.length > 0, 'the lost lock to be reported');
      assert.match(lost[0]!.message, /clusterd\.lock is gone/);
      await assert.rejects(client.query('SELECT 1'), LockLostError);
    } finally {
      await client.close();
    }
  });

  it('leaves no helper behind once closed', async () => {
    const client = await openPglite(await fresh());
    assert.equal((await childrenNamed(process.pid, 'flock')).length, 1);
    await client.close();
    assert.deepEqual(await childrenNamed(process.pid, 'flock'), []);
  });
});
