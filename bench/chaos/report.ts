/** Prints a chaos run's figures: a human summary, the details of anything that must be zero and is not, then one JSON line. */
import type { Figures, MustBeZero } from './figures.js';

const s = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ') || 'none';

/** Why each must-be-zero figure matters, in the order printed. */
const MUST_BE_ZERO: Record<keyof MustBeZero, string> = {
  runTwice: 'run twice (attempts of one operation overlapping, from the call journal)',
  overlappingRuns: 'overlapping runs of different operations on one cluster (call journal)',
  runsAliveTogether: 'moments two runs were alive on one cluster (process samples)',
  enginesPastLease: 'engines (CLI, plugins) of a killed worker alive after its lease had lapsed (process samples)',
  lost: 'lost (accepted and never finished, or a 202 whose operation is missing)',
  stacksLeftLocked: 'stacks left locked (lock files in the state backend, clusters with nothing left to run)',
  resourcesLeftBehind: 'destroyed clusters with resources (files) left behind',
  processesLeftBehind: 'job processes alive on clusters with nothing left to run',
  idempotencyDuplicates: 'Idempotency-Keys answered with two different operations',
  hostileAccepted: 'hostile requests accepted (2xx)',
};

/** Why the run fails: the must-be-zero figures that are not zero, and overlap checks that saw nothing. */
export function failures(f: Figures): string[] {
  const failed: string[] = (Object.keys(MUST_BE_ZERO) as Array<keyof MustBeZero>).filter((k) => f.mustBeZero[k] !== 0);
  if (f.coverage.attemptsStarted > 0 && f.coverage.runsInJournal === 0) failed.push('journalBlind');
  if (f.coverage.attemptsStarted > 0 && f.coverage.runsSampled === 0) failed.push('samplerBlind');
  return failed;
}

export function printReport(f: Figures, context: Record<string, unknown>): void {
  const out = (line: string) => console.log(line);
  out('');
  out('== chaos figures ==');
  out(
    `requests sent ${f.requestsSent} (answers by status: ${list(f.answersByStatus)}); unanswered after retries: ${f.unanswered.withKey} with a key, ${f.unanswered.withoutKey} without (never retried); steps skipped ${f.skippedSteps}`,
  );
  out(`operations accepted: ${f.accepted} (plus ${f.acceptedUntold} in the records no client got a 202 for)`);
  out(`operations run (terminal, attempts >= 1): ${f.run}; outcomes: ${list(f.outcomes)}`);
  out(`taken over after a kill or a lost lease (attempts > 1): ${f.takenOver}; most attempts: ${f.maxAttempts}`);
  out(`failed or cancelled, by kind status code: ${list(f.endedBadly)}`);
  out(
    `worker kills: ${f.kills} (${f.missedKills} planned kills found the worker still restarting); workers that died on their own: ${f.unexpectedWorkerExits}`,
  );
  out(
    `recovery after a kill (${f.recovery.waits} running operations hit, ${f.recovery.unknown} kills while the records were down): next run on the cluster after median ${s(f.recovery.medianToStartMs)}, longest ${s(f.recovery.maxToStartMs)}; next finish longest ${s(f.recovery.maxToFinishMs)}`,
  );
  if (f.recovery.worst)
    out(
      `  longest wait: cluster ${f.recovery.worst.cluster}, operation ${f.recovery.worst.operationId}, killed at ${new Date(f.recovery.worst.killAt).toISOString()}`,
    );
  out(
    `longest a killed worker's run stayed alive after the kill: ${s(f.orphanLifeMaxMs)}; job children without an engine still exiting after the lease: ${f.childrenPastLease}`,
  );
  out(
    `overlap checks saw ${f.coverage.runsInJournal} runs in the call journal and ${f.coverage.runsSampled} in process samples, of ${f.coverage.attemptsStarted} attempts started`,
  );
  for (const key of Object.keys(MUST_BE_ZERO) as Array<keyof MustBeZero>)
    out(`${f.mustBeZero[key] === 0 ? 'ok  ' : 'FAIL'} ${MUST_BE_ZERO[key]}: ${f.mustBeZero[key]}`);
  const d = f.details;
  for (const i of d.interleavings) {
    out(
      `  overlap on ${i.cluster}: run ${i.mark} (operation ${i.markOperation ?? '?'}) made "${i.returnCall}" at ${new Date(i.returnAt).toISOString()}, after run ${i.intruder} (operation ${i.intruderOperation ?? '?'}) began at ${new Date(i.intruderAt).toISOString()}`,
    );
  }
  for (const t of d.together.slice(0, 10))
    out(`  alive together on ${t.cluster} at ${new Date(t.at).toISOString()}: ${t.marks.join(', ')}`);
  for (const e of d.enginesPastLease)
    out(
      `  the engine of run ${e.mark} on ${e.cluster ?? '?'} was alive ${s(e.engineAliveForMs)} after its worker was killed at ${new Date(e.killAt).toISOString()}`,
    );
  for (const l of d.lost) out(`  lost ${l.id}: ${l.why}`);
  for (const l of d.lockFiles) out(`  lock left: ${l}`);
  for (const l of d.leftoverFiles) out(`  files left by destroyed cluster ${l}`);
  for (const m of d.leftoverProcesses) out(`  processes of run ${m} still alive`);
  for (const k of d.duplicateKeys) out(`  Idempotency-Key ${k} named two operations`);
  for (const h of d.hostileAccepted) out(`  hostile step ${h} was accepted`);
  const failed = failures(f);
  out(failed.length ? `RESULT: FAIL (${failed.join(', ')})` : 'RESULT: PASS');
  console.log(JSON.stringify({ ...context, ...f, details: undefined, result: failed.length ? 'fail' : 'pass' }));
}
