import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMIC_PROVIDER_PLUGIN, writeDynamicProviderLauncher } from '../../src/engine/dynamic-provider-launcher.js';
import { JOB_NODE_FLAGS } from '../../src/engine/job-node-flags.js';

/**
 * Starts the launcher as the CLI would (the engine's address as its argument), with Node's module
 * log on: until it prints the port it serves on, then stops it.
 */
function startPlugin(launcher: string): Promise<{ port: string; cmdline: string; modules: string }> {
  return new Promise((resolve, reject) => {
    // A PATH whose `node` is not this one: the launcher must not depend on it.
    const child = spawn(launcher, ['127.0.0.1:1'], { env: { PATH: '/usr/bin:/bin', NODE_DEBUG: 'module' } });
    let out = '';
    let modules = '';
    child.stderr.on('data', (d: Buffer) => (modules += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').join(' ');
      child.kill('SIGKILL');
      child.once('close', () => resolve({ port: out.trim(), cmdline, modules }));
    });
    child.once('error', reject);
    child.once(
      'exit',
      (code) => out.includes('\n') || reject(new Error(`the plugin exited (${code}) before serving:\n${modules.slice(-2000)}`)),
    );
  });
}

describe('the dynamic-provider plugin launcher', () => {
  let dir: string;
  let plugin: Awaited<ReturnType<typeof startPlugin>>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clusterd-launcher-'));
    await writeDynamicProviderLauncher(dir);
    // Written twice, as by two roles sharing a data directory: the second replaces the first whole.
    await writeDynamicProviderLauncher(dir);
    plugin = await startPlugin(path.join(dir, DYNAMIC_PROVIDER_PLUGIN));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is a file that anyone may run and only its owner may change', () => {
    expect(statSync(path.join(dir, DYNAMIC_PROVIDER_PLUGIN)).mode & 0o777).toBe(0o755);
  });

  it("serves as the SDK's plugin on this process's Node, in one process, with the serializer deferred", () => {
    expect(plugin.port).toMatch(/^\d+$/);
    // exec: the launcher's own process became the plugin; no `node -e require.resolve(...)` first. With
    // the job's Node flags, as the job's child.
    const flags = JOB_NODE_FLAGS.join(' ');
    expect(plugin.cmdline.startsWith(`${process.execPath} ${flags} --import ${path.join(dir, 'defer-serializer.mjs')} `)).toBe(true);
    expect(plugin.cmdline).toContain('@pulumi/pulumi/cmd/dynamic-provider/index.js 127.0.0.1:1');
    expect(plugin.modules).toContain('/@pulumi/pulumi/runtime/closure/parseFunction.js');
    expect(plugin.modules).not.toMatch(/\/node_modules\/typescript\/lib\//);
    expect(plugin.modules).not.toMatch(/\/node_modules\/@npmcli\/arborist\/lib\/arborist\//);
  });
});
