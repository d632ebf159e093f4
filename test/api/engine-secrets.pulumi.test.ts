import assert from 'node:assert/strict';
import { afterAll, describe, it } from 'vitest';
import { jobProcessesOf } from '../support/processes.js';
import { localSpec, startHarness, type Harness } from '../support/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The processes of a job (its child, the CLI, the provider plugin that runs blueprint code) see only what they need. */
describe('the environment of a job', () => {
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.stop();
  });

  it('holds no passphrase, no record store or queue address, no service setting and no spec secret', async () => {
    h = await startHarness({ workers: 1 });
    const canary = 'canary-spec-secret-7d41';
    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'env-check', blueprint: 'local-files', spec: localSpec({ delayMs: 6000, secretValue: canary }) },
    });
    assert.equal(res.status, 202);
    const deadline = Date.now() + 120_000;
    let processes = jobProcessesOf(h.dataDir);
    while (!processes.some((p) => /dynamic-provider/.test(p.cmd)) && Date.now() < deadline) {
      await sleep(100);
      processes = jobProcessesOf(h.dataDir);
    }
    const kinds = (re: RegExp) => processes.filter((p) => re.test(p.cmd)).length;
    assert.ok(kinds(/dynamic-provider/) >= 1, 'the provider plugin is running');
    assert.ok(kinds(/child-entry/) === 1, `the job's child is running: ${processes.map((p) => p.cmd).join(' | ')}`);
    assert.ok(kinds(/\/pulumi( |$)/) >= 1, 'the CLI is running');

    const forbidden = [h.env.PULUMI_CONFIG_PASSPHRASE!, h.env.DATABASE_URL!, h.env.REDIS_URL!, h.env.QUEUE_PREFIX!, canary];
    for (const p of processes) {
      for (const value of forbidden)
        assert.ok(!p.environ.some((v) => v.includes(value)), `${p.cmd} has ${value.slice(0, 12)}… in its environment`);
      const names = p.environ.map((v) => v.split('=')[0]!);
      assert.deepEqual(
        names.filter((n) => n.startsWith('CLUSTERD_') && n !== 'CLUSTERD_JOB_MARK'),
        [],
        p.cmd,
      );
      assert.ok(!names.includes('PULUMI_CONFIG_PASSPHRASE'), p.cmd);
      assert.ok(!names.includes('DATABASE_URL') && !names.includes('REDIS_URL'), p.cmd);
    }
    const cli = processes.find((p) => /\/pulumi( |$)/.test(p.cmd))!;
    assert.ok(
      cli.environ.some((v) => v.startsWith('PULUMI_CONFIG_PASSPHRASE_FILE=')),
      'the CLI reads the passphrase from a file',
    );
    const op = await h.waitFor(res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  });
});
