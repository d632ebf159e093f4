/**
 * A PostgreSQL server of a test's own (initdb in a temp directory, a free port on loopback), for tests
 * that stop or pause the record store: the shared test server must keep serving everyone else.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  /** Freezes the server and every backend (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Thaws what `pause` froze. */
  resume(): void;
  /** Stops the server as an operator would for maintenance (`pg_ctl -m fast`: sessions are ended, nothing is lost). */
  shutDown(): Promise<void>;
  /** Starts again, on the same port and data, a server that `shutDown` stopped. */
  startAgain(): Promise<void>;
  /** `shutDown`, then `startAgain`. */
  restart(): Promise<void>;
  /** Stops the server and removes its files. */
  stop(): void;
}

const run = promisify(execFile);
const bin = () => execFileSync('bash', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1'], { encoding: 'utf8' }).trim();
const asPostgres = (args: string[]) =>
  execFileSync('runuser', ['-u', 'postgres', '--', ...args], { cwd: '/', stdio: ['ignore', 'ignore', 'pipe'] });

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'clusterd-pg-'));
  // The server runs as `postgres`, which must own its data directory.
  chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const pgBin = bin();
  execFileSync('mkdir', ['-p', data]);
  chownSync(
    data,
    Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  );
  asPostgres([path.join(pgBin, 'initdb'), '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C']);
  writeFileSync(
    path.join(data, 'postgresql.auto.conf'),
    `port = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\n`,
  );
  const start = () => asPostgres([path.join(pgBin, 'pg_ctl'), '-D', data, '-l', path.join(data, 'server.log'), '-w', '-t', '60', 'start']);
  start();
  // Read again after a restart: a new postmaster has a new pid.
  let postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const family = (): number[] => {
    const children = execFileSync('bash', ['-c', `pgrep -P ${postmaster} || true`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
    return [postmaster, ...children];
  };
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of family()) {
      try {
        process.kill(pid, sig);
      } catch {
        // Gone.
      }
    }
  };
  const pgCtl = (args: string[]) => run('runuser', ['-u', 'postgres', '--', path.join(pgBin, 'pg_ctl'), '-D', data, ...args], { cwd: '/' });
  const startAgain = async () => {
    await pgCtl(['-l', path.join(data, 'server.log'), '-w', '-t', '60', 'start']);
    postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    // Without blocking the event loop: the caller keeps serving and measuring through the outage.
    shutDown: async () => void (await pgCtl(['-m', 'fast', '-w', '-t', '60', 'stop'])),
    startAgain,
    async restart() {
      await pgCtl(['-m', 'fast', '-w', '-t', '60', 'stop']);
      await startAgain();
    },
    stop() {
      signal('SIGCONT');
      try {
        asPostgres([path.join(pgBin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
