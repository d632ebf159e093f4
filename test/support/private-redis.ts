/**
 * A Redis server of a test's (or a chaos run's) own, on a free loopback port, persisting with an
 * append-only file, so that it can be killed and started again on the same data without disturbing
 * the shared test Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

export interface PrivateRedis {
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  /** Sends `signal` (SIGTERM: saves and exits; SIGKILL: dies at once) and waits for the exit. */
  kill(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts the server again on the same port and data (its AOF), once it answers. */
  start(): Promise<void>;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

/** True once a PING on a fresh connection gets PONG. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

const exited = (p: ChildProcess) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

/**
 * Starts `redis-server` with `appendonly yes` and `appendfsync everysec` (the production settings
 * docs/operations.md asks for): a SIGKILL may lose the last second of writes, as a crash would.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'clusterd-redis-'));
  const port = await freePort();
  let server: ChildProcess | null = null;
  const start = async () => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
      { stdio: 'ignore' },
    );
    server = child;
    const deadline = Date.now() + 20_000;
    while (!(await pong(port))) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`redis-server on port ${port} exited (${child.exitCode ?? child.signalCode}) before answering`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within 20 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kill = async (signal: 'SIGTERM' | 'SIGKILL') => {
    const current = server;
    if (!current) return;
    current.kill(signal);
    await exited(current);
    server = null;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    async stop() {
      await kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
