// A stand-in job process for the tests of the spare pool: says it is ready, answers one `run` with
// its pid, and exits when its parent goes, as the real child (queue/child-entry.ts) does.
process.on('message', (msg) => {
  if (msg.type === 'run') process.send({ type: 'ran', pid: process.pid });
});
process.once('disconnect', () => process.exit(1));
process.send({ type: 'ready', pid: process.pid });
