// A stand-in job process for the tests of the spare pool: says it is ready, answers one `run` with
// its pid, and exits when its parent goes, as the real child (queue/child-entry.ts) does. A parent
// gone before a message leaves is the same as a disconnect (without the callback it is an unhandled EPIPE).
const send = (msg) => process.send(msg, (err) => err && process.exit(1));
process.on('message', (msg) => {
  if (msg.type === 'run') send({ type: 'ran', pid: process.pid });
});
process.once('disconnect', () => process.exit(1));
send({ type: 'ready', pid: process.pid });
