import { UnavailableError } from '../errors.js';
import { FairSlots } from './fair-slots.js';

/** What a shared read asks for. */
export interface OutputRequest {
  stackName: string;
  key: string;
  /**
   * Changes whenever the stack's outputs may have changed (the cluster record's `updatedAt`):
   * a value is shared only between requests of the same version.
   */
  version: string;
  /** Whose turn it is when reads queue (the cluster's team): the slots go to the queues in turn. */
  queue: string;
}

/** Settings of {@link createSharedOutputReader}. */
export interface SharedOutputReaderOptions {
  /** The CLI read; must stop (and reject) when the signal aborts. */
  read(stackName: string, key: string, signal: AbortSignal): Promise<unknown>;
  /** Reads (CLI processes) at once in this process. */
  maxConcurrent: number;
  /** Longest a request waits, for a slot and the read together, in milliseconds; past it the read is killed. */
  timeoutMs: number;
  /** How long a value read is handed to later requests of the same stack and version, in milliseconds; 0 keeps nothing (concurrent requests still share one read). */
  cacheMs: number;
  /** What a refused caller is told to wait (Retry-After), in seconds. @defaultValue 5 */
  retryAfterSeconds?: number;
}

/** Reads stack outputs through a bounded, fair, deadline-bound and shared path. */
export interface SharedOutputReader {
  /** The value (null when the stack or output does not exist); rejects with {@link UnavailableError} past the timeout. */
  read(request: OutputRequest): Promise<unknown>;
  /** Reads running and waiting now. */
  readonly load: { running: number; waiting: number };
}

/** Rejects with the signal's reason when it aborts. */
const abortion = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

/**
 * Puts the CLI behind three guards: at most `maxConcurrent` reads at once (queued fairly per
 * team), concurrent requests for one stack share one read, and a value is served from memory for
 * `cacheMs` after it was read. Every request is answered within about `timeoutMs`: a read still
 * queued then is dropped, one still running is killed. Values live only in this process's memory
 * and are deleted when they expire.
 */
export function createSharedOutputReader(options: SharedOutputReaderOptions): SharedOutputReader {
  const { timeoutMs, cacheMs } = options;
  const retryAfter = options.retryAfterSeconds ?? 5;
  const slots = new FairSlots(options.maxConcurrent);
  const cache = new Map<string, { value: unknown }>();
  const flights = new Map<string, Promise<unknown>>();

  const keep = (id: string, value: unknown) => {
    if (cacheMs <= 0) return;
    cache.set(id, { value });
    setTimeout(() => cache.delete(id), cacheMs).unref();
  };

  const readOnce = async (r: OutputRequest): Promise<unknown> => {
    const deadline = new AbortController();
    let started = false;
    const timer = setTimeout(() => {
      deadline.abort(
        started
          ? new UnavailableError(
              `reading the outputs of stack ${r.stackName} took longer than ${timeoutMs} ms; the read was stopped`,
              retryAfter,
            )
          : new UnavailableError(`every state reader was busy for ${timeoutMs} ms; try again shortly`, retryAfter),
      );
    }, timeoutMs);
    try {
      const release = await slots.acquire(r.queue, deadline.signal);
      started = true;
      // The slot is held until the read has really ended (a killed CLI whose pipes stay open
      // still counts), but the answer does not wait past the deadline for it.
      const reading = options.read(r.stackName, r.key, deadline.signal).finally(release);
      reading.catch(() => undefined);
      return await Promise.race([reading, abortion(deadline.signal)]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    read(r) {
      const id = JSON.stringify([r.stackName, r.key, r.version]);
      const hit = cache.get(id);
      if (hit) return Promise.resolve(hit.value);
      let flight = flights.get(id);
      if (!flight) {
        flight = readOnce(r)
          .then((value) => {
            keep(id, value);
            return value;
          })
          .finally(() => flights.delete(id));
        flights.set(id, flight);
      }
      return flight;
    },
    get load() {
      return { running: slots.inUse, waiting: slots.waiting };
    },
  };
}
