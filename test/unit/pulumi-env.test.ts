import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { buildPulumiEnv, ensurePassphrase } from '../../src/engine/pulumi-env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('the Pulumi CLI environment', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'clusterd-env-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates the passphrase once, mode 0600, and reads it back afterwards', async () => {
    const [a, b] = await Promise.all([ensurePassphrase(dir), ensurePassphrase(dir)]);
    assert.equal(a, b);
    assert.equal(await ensurePassphrase(dir), a);
    assert.ok(a.length >= 40);
    assert.equal(statSync(path.join(dir, 'passphrase')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['passphrase']);
  });

  it("names Node's compile cache for the job's Node processes when there is one", () => {
    const base = { dataDir: dir, backendUrl: 'file:///x', secretsProvider: 'awskms://k' };
    assert.equal(buildPulumiEnv({ ...base, compileCacheDir: '/var/cache/c' }).NODE_COMPILE_CACHE, '/var/cache/c');
    assert.equal(buildPulumiEnv({ ...base, compileCacheDir: null }).NODE_COMPILE_CACHE, undefined);
  });

  it('sets the backend, home, passphrase file (passphrase provider only, never the passphrase), PATH and NODE_PATH', () => {
    const env = buildPulumiEnv({
      dataDir: dir,
      backendUrl: 'file:///x',
      secretsProvider: 'passphrase',
      passphraseFile: '/run/p',
      cliDir: '/opt/pulumi',
      basePath: '/usr/bin',
    });
    assert.equal(env.PULUMI_BACKEND_URL, 'file:///x');
    assert.equal(env.PULUMI_CONFIG_PASSPHRASE_FILE, '/run/p');
    assert.equal(env.PULUMI_CONFIG_PASSPHRASE, undefined);
    assert.equal(env.PULUMI_HOME, path.join(dir, 'pulumi-home'));
    assert.equal(env.PULUMI_SKIP_UPDATE_CHECK, 'true');
    assert.equal(env.PULUMI_DIY_BACKEND_NO_LEGACY_WARNING, 'true');
    assert.deepEqual(env.PATH!.split(':'), ['/opt/pulumi', path.join(ROOT, 'node_modules/@pulumi/pulumi'), '/usr/bin']);
    assert.equal(env.NODE_PATH!.split(':')[0], path.join(ROOT, 'node_modules'));
    const kms = buildPulumiEnv({ dataDir: dir, backendUrl: 's3://b', secretsProvider: 'awskms://alias/x', passphraseFile: '/run/p' });
    assert.equal(kms.PULUMI_CONFIG_PASSPHRASE_FILE, undefined);
  });
});
