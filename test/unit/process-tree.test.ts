import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'vitest';
import { JOB_MARK_VAR, killMarked } from '../../queue/process-tree.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Live (not zombie) processes whose environment carries the mark. */
async function marked(mark: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (environ.split('\0').includes(`${JOB_MARK_VAR}=${mark}`)) found.push(Number(entry));
  }
  return found;
}

describe.runIf(process.platform === 'linux')('killMarked (reads /proc)', () => {
  it('leaves no marked process, even of a parent that keeps forking children into groups of their own while it is killed', async () => {
    // Like a CLI starting plugins: each child gets a process group of its own and outlives its parent.
    for (let round = 0; round < 3; round++) {
      const mark = randomUUID();
      const forker = spawn('bash', ['-c', 'while true; do setsid sleep 600 & done'], {
        env: { ...process.env, [JOB_MARK_VAR]: mark },
        stdio: 'ignore',
        detached: true,
      });
      await sleep(300);
      assert.ok((await marked(mark)).length > 10, 'the forker is forking');
      await killMarked(mark);
      // A SIGKILLed process still has to be scheduled to exit, which takes a while on a loaded machine
      // (a fixed 100 ms failed once beside other test files); one killMarked missed sleeps for 600 s.
      let left = await marked(mark);
      for (const deadline = Date.now() + 3000; left.length && Date.now() < deadline; left = await marked(mark)) await sleep(50);
      assert.deepEqual(left, [], `round ${round}: marked processes outlived killMarked`);
      assert.ok(
        forker.exitCode !== null || forker.signalCode !== null || (await new Promise((r) => forker.once('exit', r))),
        'the forker is dead',
      );
    }
  });

  it('spares this process and processes without the mark', async () => {
    const mark = randomUUID();
    const other = spawn('sleep', ['600'], { stdio: 'ignore' });
    await killMarked(mark);
    assert.equal(other.exitCode, null);
    assert.equal(other.signalCode, null);
    other.kill('SIGKILL');
  });
});
