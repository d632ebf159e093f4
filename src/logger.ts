import pino, { type Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they sit in a logged object. */
const REDACT = ['authorization', 'token', 'passphrase', 'kubeconfig', 'env', 'password', 'secret'].flatMap((k) => [
  k,
  `*.${k}`,
  `*.*.${k}`,
]);

/**
 * One JSON logger for the process; secrets are censored by key. Lines are written synchronously:
 * pino's default asynchronous stream, flushed at exit, can write a line still in flight after the
 * lines flushed behind it, or lose it, and the last lines before an exit are the ones that matter.
 */
export function createLogger(level: string, base?: Record<string, unknown>): Logger {
  return pino(
    { level, base: { pid: process.pid, ...base }, redact: { paths: REDACT, censor: '[redacted]' } },
    pino.destination({ dest: 1, sync: true }),
  );
}
