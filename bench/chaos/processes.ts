/**
 * The service's processes in a chaos run: one API process and a pool of worker processes, each
 * logging to a file of its own in the run's directory, that can be SIGKILLed and started again. A
 * worker that dies on its own (one started while the record store was down, say) is started again
 * after a pause, as an orchestrator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { ROOT, SERVICE_MAIN } from '../../test/support/harness.js';

const exited = (p: ChildProcess) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

/**
 * Starts the compiled service (`dist/src/main.js`) with `env`, its stdout and stderr (and so its job processes' stderr) appended
 * to `logFile`. `onReady` is called once the process logs `readyMessage` (pino's `msg`).
 */
export function spawnService(env: Record<string, string>, logFile: string, readyMessage?: string, onReady?: () => void): ChildProcess {
  const child = spawn(process.execPath, SERVICE_MAIN, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = createWriteStream(logFile, { flags: 'a' });
  // Read as fast as it comes: a full pipe would block the service's synchronous log writes.
  child.stderr.on('data', (chunk: Buffer) => file.write(chunk));
  let pending = '';
  let ready = readyMessage === undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    file.write(chunk);
    if (ready) return;
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    if (lines.some((l) => l.includes(`"msg":${JSON.stringify(readyMessage)}`))) {
      ready = true;
      onReady?.();
    }
  });
  // Orphaned job processes may hold the pipes open after the service died: the file closes with them.
  child.once('close', () => file.end());
  return child;
}

/** Stops a service process as an orchestrator would (SIGTERM), then SIGKILL after `graceMs`. */
export async function stopService(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

export interface WorkerPool {
  /** Slots in the pool. */
  readonly size: number;
  /** The pid of the worker in `slot`, or null while it is down. */
  pid(slot: number): number | null;
  /** Slots whose worker has started taking jobs (logged `worker started`). */
  readySlots(): number[];
  /** SIGKILLs the worker in `slot` and waits for it to die; its pid, or null if it was down. */
  kill(slot: number): Promise<number | null>;
  /** Starts the worker in `slot` if it is down. */
  start(slot: number): void;
  /** Every worker pid there has been. */
  readonly pids: number[];
  /** Workers that exited without being killed or stopped by the run. */
  readonly unexpectedExits: Array<{ slot: number; pid: number; code: number | null; signal: string | null; at: number }>;
  /** SIGTERM to every worker (they drain), SIGKILL after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

/** Starts `size` worker processes (CLUSTERD_ROLE=worker) with `env`, logging to `<dir>/worker-<slot>.log`. */
export function startWorkerPool(size: number, env: Record<string, string>, dir: string): WorkerPool {
  const slots: Array<ChildProcess | null> = Array.from({ length: size }, () => null);
  const ready = new Set<ChildProcess>();
  const expected = new Set<ChildProcess>();
  const pids: number[] = [];
  const unexpectedExits: WorkerPool['unexpectedExits'] = [];
  let stopping = false;

  const start = (slot: number) => {
    if (stopping || slots[slot]) return;
    const child: ChildProcess = spawnService(
      { ...env, CLUSTERD_ROLE: 'worker' },
      path.join(dir, `worker-${slot}.log`),
      'worker started',
      () => ready.add(child),
    );
    slots[slot] = child;
    if (child.pid) pids.push(child.pid);
    child.once('exit', (code, signal) => {
      ready.delete(child);
      if (slots[slot] === child) slots[slot] = null;
      if (expected.delete(child) || stopping) return;
      unexpectedExits.push({ slot, pid: child.pid ?? -1, code, signal, at: Date.now() });
      setTimeout(() => start(slot), 2000);
    });
  };
  for (let slot = 0; slot < size; slot++) start(slot);

  return {
    size,
    pid: (slot) => slots[slot]?.pid ?? null,
    readySlots: () => slots.flatMap((child, slot) => (child && ready.has(child) ? [slot] : [])),
    async kill(slot) {
      const child = slots[slot];
      if (!child) return null;
      expected.add(child);
      child.kill('SIGKILL');
      await exited(child);
      return child.pid ?? null;
    },
    start,
    pids,
    unexpectedExits,
    async stop(graceMs) {
      stopping = true;
      await Promise.all(slots.filter((child): child is ChildProcess => Boolean(child)).map((child) => stopService(child, graceMs)));
    },
  };
}
