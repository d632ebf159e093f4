import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'vitest';
import { ensureGeneratedSecret } from '../../src/secrets/generated-secret.js';

describe('ensureGeneratedSecret', () => {
  it('generates 32 random bytes once, readable only by this user, and agrees across racing callers', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'clusterd-secret-'));
    try {
      const file = path.join(dir, 'nested', 'key');
      const all = await Promise.all(Array.from({ length: 8 }, () => ensureGeneratedSecret(file, 'base64')));
      assert.equal(new Set(all).size, 1, 'every caller got the same secret');
      assert.equal(Buffer.from(all[0]!, 'base64').length, 32);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal(await ensureGeneratedSecret(file, 'base64'), all[0], 'read back afterwards');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
