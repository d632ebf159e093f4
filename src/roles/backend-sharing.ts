import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { startPeriodicLoop } from '../periodic-loop.js';
import type { ServiceProcess, SqlProcessRegistry } from '../store/process-registry.js';
import type { Closer } from './close-in-order.js';

/** The service cannot start as configured; the message says what to change. */
export class StartRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartRefusedError';
  }
}

/** A backend URL as it may be shown and compared: its password removed. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Why this process may not join the others that share its records, or null. Every process must use
 * the same state backend; a `file://` one is a directory of one machine, so it serves processes of
 * that machine only.
 */
export function backendConflict(self: Omit<ServiceProcess, 'id'>, others: ServiceProcess[]): string | null {
  // A directory of one machine first: no choice of the others' backend would make it shareable.
  const elsewhere = others.find((o) => o.host !== self.host);
  if (elsewhere && self.backend.startsWith('file://'))
    return (
      `the state backend ${self.backend} is a directory of this machine (${self.host}), but ${elsewhere.role} process ` +
      `${elsewhere.id} on ${elsewhere.host} shares these records: processes on several machines need a backend they all ` +
      'reach (postgres://, s3://, gs://, azblob://, or Pulumi Cloud)'
    );
  const differing = others.find((o) => o.backend !== self.backend);
  if (differing)
    return (
      `PULUMI_BACKEND_URL is ${self.backend}, but ${differing.role} process ${differing.id} on ${differing.host} shares these ` +
      `records with ${differing.backend}: every process of one service must use the same state backend`
    );
  return null;
}

/**
 * Records this process among those that share the records, after checking that it may join them
 * (throws {@link StartRefusedError} otherwise), and keeps its row fresh every `intervalMs`; a process
 * silent for three intervals is gone. A conflict that appears later (two processes started at once)
 * is logged at every renewal.
 */
export async function joinProcesses(
  registry: SqlProcessRegistry,
  options: { role: ServiceProcess['role']; backendUrl: string; intervalMs: number; log: Logger },
): Promise<{ closer: Closer }> {
  const self: ServiceProcess = {
    id: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    host: hostname(),
    role: options.role,
    backend: withoutCredentials(options.backendUrl),
  };
  const staleMs = 3 * options.intervalMs;
  const conflict = backendConflict(self, await registry.others(self.id, staleMs));
  if (conflict) throw new StartRefusedError(conflict);
  await registry.renew(self);
  const loop = startPeriodicLoop({
    intervalMs: options.intervalMs,
    log: options.log,
    failureMessage: 'could not renew this process in the records',
    runNow: false,
    unref: true,
    pass: async () => {
      await registry.renew(self);
      const later = backendConflict(self, await registry.others(self.id, staleMs));
      if (later) options.log.error({ conflict: later }, 'processes sharing these records disagree on the state backend');
    },
  });
  return {
    closer: {
      name: 'process registration',
      close: async () => {
        await loop.stop();
        await registry.remove(self.id);
      },
    },
  };
}
