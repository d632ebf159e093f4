import pino, { type Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they sit in a logged object. */
const REDACT = ['authorization', 'token', 'passphrase', 'kubeconfig', 'env', 'password', 'secret'].flatMap((k) => [
  k,
  `*.${k}`,
  `*.*.${k}`,
]);

/** One JSON logger for the process; secrets are censored by key. */
export function createLogger(level: string, base?: Record<string, unknown>): Logger {
  return pino({ level, base: { pid: process.pid, ...base }, redact: { paths: REDACT, censor: '[redacted]' } });
}
