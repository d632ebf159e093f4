import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { keepSpareChildren, type JobProcess, type SpareChildren } from '../../queue/spare-children.js';
import { ROOT } from '../support/harness.js';

const FAKE = { file: path.join(ROOT, 'test/support/fake-job-child.mjs'), execArgv: [] };
const log = createLogger('silent');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const ran = (job: JobProcess) =>
  new Promise<number>((resolve) => {
    job.child.on('message', (m: { type: string; pid: number }) => m.type === 'ran' && resolve(m.pid));
    job.child.send({ type: 'run' });
  });

describe('spare job processes', () => {
  let pool: SpareChildren | undefined;
  afterEach(async () => pool?.close());

  it('keeps the spares started, hands each out once, and starts another for each taken', async () => {
    pool = keepSpareChildren({ entry: FAKE, env: { PATH: process.env.PATH ?? '' }, size: 2, log });
    await until('two spares are up', () => pool!.ready === 2);
    const taken = [pool.take(), pool.take(), pool.take()];
    const pids = await Promise.all(taken.map(ran));
    assert.equal(new Set(pids).size, 3, 'no process is handed out twice');
    assert.equal(new Set(taken.map((t) => t.mark)).size, 3, 'each job has a mark of its own');
    await until('the spares are refilled', () => pool!.ready === 2);
    for (const t of taken) t.child.kill('SIGKILL');
  });

  it('replaces a spare that dies while idle, and never hands out a dead one', async () => {
    pool = keepSpareChildren({ entry: FAKE, env: { PATH: process.env.PATH ?? '' }, size: 1, log });
    await until('a spare is up', () => pool!.ready === 1);
    const first = pool.take();
    first.child.kill('SIGKILL');
    await until('a new spare is up', () => pool!.ready === 1);
    const second = pool.take();
    assert.notEqual(second.child.pid, first.child.pid);
    assert.equal(typeof (await ran(second)), 'number');
    second.child.kill('SIGKILL');
  });

  it('kills its spares on close and starts no more', async () => {
    pool = keepSpareChildren({ entry: FAKE, env: { PATH: process.env.PATH ?? '' }, size: 2, log });
    await until('two spares are up', () => pool!.ready === 2);
    const pids = execFileSync('pgrep', ['-f', FAKE.file], { encoding: 'utf8' }).trim().split('\n').map(Number);
    await pool.close();
    await until('the spares are gone', () => pids.every((pid) => !alive(pid)));
    assert.equal(pool.ready, 0);
  });

  it('never outlives its worker: a spare whose worker is SIGKILLed exits', async () => {
    const worker = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import { keepSpareChildren } from ${JSON.stringify(path.join(ROOT, 'queue/spare-children.ts'))};
         import { createLogger } from ${JSON.stringify(path.join(ROOT, 'src/logger.ts'))};
         const pool = keepSpareChildren({ entry: ${JSON.stringify(FAKE)}, env: { PATH: process.env.PATH }, size: 1, log: createLogger('silent') });
         setInterval(() => pool.ready, 1000);`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let spare = 0;
    const childOf = (pid: number) => {
      try {
        return Number(
          execFileSync('pgrep', ['-P', String(pid), '-f', 'fake-job-child'], { encoding: 'utf8' })
            .trim()
            .split('\n')[0],
        );
      } catch {
        return 0; // none yet
      }
    };
    await until('the worker started its spare', () => (spare = childOf(worker.pid!)) > 0, 30_000).catch(() => undefined);
    assert.ok(spare > 0, 'the worker started a spare');
    worker.kill('SIGKILL');
    await until('the orphaned spare exits', () => !alive(spare));
  });
});
