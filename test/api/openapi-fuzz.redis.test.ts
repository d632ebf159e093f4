import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ROOT, startHarness, type Harness } from '../support/harness.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';

/**
 * Issue 8: schemathesis, a fuzzer nobody here wrote, tests the API from the service's own
 * `/openapi.json`: with a fixed seed and a bounded number of examples, every answer must be no 5xx,
 * of a documented status, content type and headers, with a body that fits its schema; what the
 * description calls valid must be accepted (or refused only for a rule no JSON Schema can state),
 * what it calls invalid refused; requests without the token answer 401, methods a path does not list
 * 405. How it fuzzes is in openapi-fuzz.toml and openapi-fuzz-hooks.py beside this file;
 * scripts/test.sh installs the pinned schemathesis (scripts/ensure-schemathesis.sh) and passes its
 * path in CLUSTERD_SCHEMATHESIS.
 *
 * The API runs alone, with no worker: an engine run per accepted request would make the run slow
 * and its answers depend on timing, and a worker would deliver webhook pings to the URLs the fuzzer
 * makes up, which must stay on this machine. Every accepted operation stays queued, which the
 * stateful phase then reads, cancels and streams. The limits on failed authentications, test pings
 * and sweeps are raised far above what one run sends: the fuzzer is one client at one address, and
 * the limits themselves are tested in rate-limits.redis.test.ts. The records are in a PostgreSQL
 * server of this test's own: the run lasts minutes, and other tests stop and restart the shared one.
 */
const SCHEMATHESIS = process.env.CLUSTERD_SCHEMATHESIS;
/** Fixed, so that every run sends the same requests; CLUSTERD_FUZZ_SEED explores others. */
const SEED = process.env.CLUSTERD_FUZZ_SEED ?? '8';
/** Bounds a run that hangs; a normal one takes about three minutes here. */
const RUN_TIMEOUT_MS = 12 * 60_000;
const CONFIG = path.join(ROOT, 'test/api/openapi-fuzz.toml');
const HOOKS = path.join(ROOT, 'test/api/openapi-fuzz-hooks.py');

interface RunReport {
  running_time: number;
  operations: { total: number; tested: number };
  test_cases: { generated: number; with_failures: number; unique_failures: number };
  failures: Array<{ code: string; title: string; count: number; operations: string[] }>;
}

interface FuzzRun {
  exitCode: number | null;
  output: string;
  report: RunReport | null;
}

/** Runs schemathesis against the service as the holder of `token`; resolves when it exits or is killed at the deadline. */
async function fuzz(url: string, token: string, extraArgs: string[] = []): Promise<FuzzRun> {
  const reportDir = await mkdtemp(path.join(tmpdir(), 'clusterd-fuzz-'));
  try {
    const args = [
      '--config-file',
      CONFIG,
      'run',
      `${url}/openapi.json`,
      '--seed',
      SEED,
      '--no-color',
      '--report',
      'json',
      '--report-dir',
      'report',
      ...extraArgs,
    ];
    // Run in a directory of its own: whatever it writes there (its report, hypothesis' files) goes with it.
    const env = { ...process.env, CLUSTERD_FUZZ_TOKEN: token, SCHEMATHESIS_HOOKS: HOOKS, PYTHONUNBUFFERED: '1' };
    const child = spawn(SCHEMATHESIS!, args, { cwd: reportDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const exitCode = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    clearTimeout(killer);
    const file = (await readdir(path.join(reportDir, 'report')).catch(() => [])).find((f) => f.endsWith('.json'));
    const report = file ? (JSON.parse(await readFile(path.join(reportDir, 'report', file), 'utf8')) as RunReport) : null;
    return { exitCode, output, report };
  } finally {
    await rm(reportDir, { recursive: true, force: true });
  }
}

/** Fails with schemathesis's own report of every finding; otherwise says what the run covered. */
function assertNoFindings(who: string, run: FuzzRun): void {
  assert.ok(run.report, `schemathesis wrote no report (exit ${run.exitCode}):\n${run.output}`);
  const { report } = run;
  const findings = report.failures.map((f) => `${f.code} ${f.title} x${f.count}: ${f.operations.join(', ')}`);
  assert.equal(
    run.exitCode,
    0,
    `schemathesis found ${report.test_cases.unique_failures} problem(s) as ${who}:\n${findings.join('\n')}\n\n${run.output}`,
  );
  assert.equal(report.operations.tested, report.operations.total, `every operation of the description is fuzzed:\n${run.output}`);
  console.log(
    `${who}: ${report.test_cases.generated} test cases over ${report.operations.tested} operations in ${report.running_time.toFixed(0)} s, 0 findings (seed ${SEED})`,
  );
}

describe('API fuzz from the OpenAPI description (schemathesis)', () => {
  let pg: PrivatePostgres;
  let h: Harness;

  beforeAll(async () => {
    assert.ok(
      SCHEMATHESIS,
      'CLUSTERD_SCHEMATHESIS must name the st executable: run the tests with scripts/test.sh (npm test), which installs it',
    );
    pg = await startPrivatePostgres();
    h = await startHarness({
      workers: 'none',
      databaseServer: pg.url,
      env: { RATE_LIMIT_AUTH_FAILURES: '100000/1m', RATE_LIMIT_WEBHOOK_TESTS: '100000/1m', RATE_LIMIT_DRIFT_SWEEPS: '100000/1m' },
    });
  });
  afterAll(async () => {
    await h?.stop();
    pg?.stop();
  });

  it('finds no 5xx and no answer that breaks the description, as an admin', { timeout: RUN_TIMEOUT_MS + 60_000 }, async () => {
    assertNoFindings('admin', await fuzz(h.url, h.adminToken));
  });

  // A team token meets other answers: 403 on admin routes, another team's records as 404, own_team.
  // The admin run covered the boundaries (coverage phase) and the links (stateful): fewer examples here.
  it('finds no 5xx and no answer that breaks the description, as a team', { timeout: RUN_TIMEOUT_MS + 60_000 }, async () => {
    assertNoFindings('team', await fuzz(h.url, await h.teamToken('fuzzers'), ['--phases', 'fuzzing', '--max-examples', '10']));
  });
});
