// Logs long lines into a pipe its parent is not reading yet, over many turns of the event loop (as a
// service does) until the pipe is full and a write waits, then one last line, and exits at once.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createLogger } from '../../src/logger.js';

const log = createLogger('info');
const pad = 'x'.repeat(1000);
for (let i = 0; i < 3000; i++) {
  log.info({ i, pad }, 'line');
  if (i % 10 === 9) await nextTurn();
}
log.info('last');
process.exit(0);
