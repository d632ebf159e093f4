/**
 * Runs the compiled service as its own OS process (`node dist/src/main.js`), the way it is deployed,
 * so that a test can signal it and watch it exit. Its output is kept for the test to read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT, SERVICE_MAIN } from './harness.js';
import { freePort } from './ports.js';

export interface ServiceProcess {
  child: ChildProcess;
  /** Base URL of its API. */
  url: string;
  port: number;
  /** Everything it wrote to stdout and stderr so far (JSON log lines). */
  output(): string;
  /** Settles when it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `killAfterMs`; resolves once it has exited. */
  stop(killAfterMs?: number): Promise<void>;
}

/**
 * Starts the service with `env` (on top of this process's environment) on a free port and waits
 * until `/healthz` answers. A worker process (`CLUSTERD_ROLE=worker`) has no API: the port is then
 * its METRICS_PORT listener's, which answers `/healthz` too.
 * @param nodeArgs more Node options (e.g. an `--import`)
 */
export async function spawnService(
  env: Record<string, string>,
  nodeArgs: string[] = [],
  startTimeoutMs = 120_000,
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, ...SERVICE_MAIN], {
    cwd: ROOT,
    env: { ...process.env, ...env, [env.CLUSTERD_ROLE === 'worker' ? 'METRICS_PORT' : 'PORT']: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  while (
    !(await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the service exited before it answered:\n${output.slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service did not answer within ${startTimeoutMs} ms:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    child,
    url,
    port,
    exited,
    output: () => output,
    async stop(killAfterMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
