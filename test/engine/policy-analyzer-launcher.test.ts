import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_ANALYZER_PLUGIN, writePolicyAnalyzerLauncher } from '../../src/engine/policy-analyzer-launcher.js';
import { nodeModulesDir } from '../../src/engine/pulumi-env.js';

const PACK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../policy-packs/local-files-guard');

/**
 * Starts the launcher as the CLI would: in the pack's directory, with the engine's address and `.`
 * as its arguments. Until the pack prints the port it serves on, then stops it.
 */
function startPack(launcher: string, packDir: string, env: Record<string, string> = {}): Promise<{ port: string; argv: string[] }> {
  return new Promise((resolve, reject) => {
    // A PATH whose `node` is not this one: the launcher must not depend on it.
    const child = spawn(launcher, ['127.0.0.1:1', '.'], { cwd: packDir, env: { PATH: '/usr/bin:/bin', ...env } });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
      child.kill('SIGKILL');
      child.once('close', () => resolve({ port: out.trim(), argv }));
    });
    child.once('error', reject);
    child.once('exit', (code) => out.includes('\n') || reject(new Error(`the pack exited (${code}) before serving:\n${err.slice(-2000)}`)));
  });
}

describe('the policy-pack analyzer plugin launcher', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clusterd-policy-launcher-'));
    await writePolicyAnalyzerLauncher(dir);
    // Written twice, as by two roles sharing a data directory: the second replaces the first whole.
    await writePolicyAnalyzerLauncher(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is a file that anyone may run and only its owner may change', () => {
    expect(statSync(path.join(dir, POLICY_ANALYZER_PLUGIN)).mode & 0o777).toBe(0o755);
  });

  it("serves a pack on this process's Node, in one process, with the SDK's policy-pack runner", async () => {
    const pack = await startPack(path.join(dir, POLICY_ANALYZER_PLUGIN), PACK);
    expect(pack.port).toMatch(/^\d+$/);
    // exec: the launcher's own process became the plugin; no `node -e require.resolve(...)` first.
    expect(pack.argv).toEqual([
      process.execPath,
      path.join(nodeModulesDir(), '@pulumi/pulumi/cmd/run-policy-pack/index.js'),
      '127.0.0.1:1',
      '.',
    ]);
  });

  it("serves a CommonJS pack outside the repository, with no node_modules of its own, through the CLI's NODE_PATH", async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'clusterd-pack-'));
    try {
      cpSync(PACK, outside, { recursive: true });
      await expect(startPack(path.join(dir, POLICY_ANALYZER_PLUGIN), outside)).rejects.toThrow(/Cannot find module '@pulumi\/policy'/);
      const pack = await startPack(path.join(dir, POLICY_ANALYZER_PLUGIN), outside, { NODE_PATH: nodeModulesDir() });
      expect(pack.port).toMatch(/^\d+$/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
