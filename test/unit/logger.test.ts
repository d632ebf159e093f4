import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const child = fileURLToPath(new URL('../support/logging-child.ts', import.meta.url));

describe('the process logger', () => {
  it('keeps every line, in order, when the process exits right after logging into a full pipe', async () => {
    // With pino's default asynchronous stream, the write waiting on the full pipe at the exit was lost
    // (or written after the lines behind it) in every run here.
    for (let run = 0; run < 2; run++) {
      const proc = spawn(process.execPath, ['--import', 'tsx', child], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      proc.stdout.pause();
      setTimeout(() => proc.stdout.resume(), 100);
      let out = '';
      proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const code = await new Promise((resolve) => proc.on('close', resolve));
      assert.equal(code, 0);
      const lines = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { i?: number; msg: string });
      assert.equal(lines.length, 3001);
      assert.ok(
        lines.slice(0, -1).every((l, i) => l.i === i),
        'in order',
      );
      assert.equal(lines.at(-1)!.msg, 'last');
    }
  });
});
