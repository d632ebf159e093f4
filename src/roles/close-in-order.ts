import type { Logger } from 'pino';

/** One step of a shutdown. */
export interface Closer {
  /** What it closes, for the log line when it fails ('HTTP', 'record store'). */
  name: string;
  close(): Promise<unknown>;
}

/**
 * Runs every closer, one after the other in the order given, even when one fails: a listener that
 * would not close must not leave the workers running or the record store open. Each failure is
 * logged as it happens; at the end the one failure is thrown, or an AggregateError of all of them.
 */
export async function closeInOrder(closers: readonly Closer[], log: Logger): Promise<void> {
  const failures: Array<{ name: string; err: unknown }> = [];
  for (const { name, close } of closers) {
    try {
      await close();
    } catch (err) {
      log.error({ err, step: name }, `shutdown step failed: ${name}; going on with the next ones`);
      failures.push({ name, err });
    }
  }
  if (failures.length === 1) throw failures[0]!.err;
  if (failures.length > 1) {
    throw new AggregateError(
      failures.map((f) => f.err),
      `${failures.length} shutdown steps failed: ${failures.map((f) => f.name).join(', ')}`,
    );
  }
}
