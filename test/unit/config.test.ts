import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';

const DAY = 86_400_000;
const DATABASE_URL = 'postgres://clusterd@db.internal:5432/clusterd';

/** The message loadConfig throws for `env`, or null when it accepts it. */
function refusal(env: NodeJS.ProcessEnv): string | null {
  try {
    loadConfig(env);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('loadConfig', () => {
  describe('WORKER_COMPILE_CACHE', () => {
    it('keeps the compile cache in the data directory by default, resolves a path given, and is off when asked', () => {
      assert.equal(loadConfig({ CLUSTERD_DATA_DIR: '/srv/clusterd' }).compileCacheDir, '/srv/clusterd/node-compile-cache');
      assert.equal(loadConfig({ WORKER_COMPILE_CACHE: 'cache' }).compileCacheDir, path.resolve('cache'));
      assert.equal(loadConfig({ WORKER_COMPILE_CACHE: 'off' }).compileCacheDir, null);
    });
  });

  describe('CLUSTERD_ROLE and the records', () => {
    for (const role of ['api', 'worker']) {
      it(`refuses CLUSTERD_ROLE=${role} without DATABASE_URL, naming both keys`, () => {
        assert.equal(
          refusal({ CLUSTERD_ROLE: role }),
          'invalid configuration:\n' +
            `  CLUSTERD_ROLE: CLUSTERD_ROLE=${role} needs DATABASE_URL: api and worker processes share their records through PostgreSQL ` +
            '(the embedded PGlite store serves one process; run CLUSTERD_ROLE=all to use it)',
        );
      });

      it(`accepts CLUSTERD_ROLE=${role} with DATABASE_URL`, () => {
        assert.equal(loadConfig({ CLUSTERD_ROLE: role, DATABASE_URL }).CLUSTERD_ROLE, role);
      });
    }

    describe('split roles over a state backend other machines share', () => {
      const BACKEND = 'postgres://pulumi@db.internal:5432/state';
      const shared = { DATABASE_URL, PULUMI_BACKEND_URL: BACKEND };
      it('refuses a worker without the passphrase and the records key every process must share, naming both', () => {
        const message = refusal({ ...shared, CLUSTERD_ROLE: 'worker' }) ?? '';
        assert.match(
          message,
          /PULUMI_CONFIG_PASSPHRASE: CLUSTERD_ROLE=worker with a shared state backend \(PULUMI_BACKEND_URL\) needs PULUMI_CONFIG_PASSPHRASE/,
        );
        assert.match(
          message,
          /CLUSTERD_RECORDS_KEY: CLUSTERD_ROLE=worker with a shared state backend \(PULUMI_BACKEND_URL\) needs CLUSTERD_RECORDS_KEY/,
        );
      });

      it('accepts it with both, or with a KMS instead of a passphrase; and an all-in-one process or a file:// backend as before', () => {
        const key = { CLUSTERD_RECORDS_KEY: 'a'.repeat(44) };
        assert.equal(loadConfig({ ...shared, ...key, CLUSTERD_ROLE: 'api', PULUMI_CONFIG_PASSPHRASE: 'p' }).CLUSTERD_ROLE, 'api');
        assert.equal(
          loadConfig({ ...shared, ...key, CLUSTERD_ROLE: 'worker', CLUSTERD_SECRETS_PROVIDER: 'awskms://alias/x' }).CLUSTERD_ROLE,
          'worker',
        );
        assert.equal(loadConfig({ ...shared, CLUSTERD_ROLE: 'all' }).CLUSTERD_ROLE, 'all');
        assert.equal(
          loadConfig({ DATABASE_URL, CLUSTERD_ROLE: 'worker', PULUMI_BACKEND_URL: 'file:///srv/state' }).CLUSTERD_ROLE,
          'worker',
        );
      });
    });

    it('accepts the default role, all, on the embedded store', () => {
      const config = loadConfig({});
      assert.equal(config.CLUSTERD_ROLE, 'all');
      assert.equal(config.DATABASE_URL, undefined);
    });

    it('reports the role rule together with every other invalid key', () => {
      const message = refusal({ CLUSTERD_ROLE: 'worker', PORT: 'eighty', RETENTION_OPERATION_EVENTS: 'a month' }) ?? '';
      assert.deepEqual(
        message
          .split('\n')
          .slice(1)
          .map((l) => l.trim().split(':')[0])
          .sort(),
        ['CLUSTERD_ROLE', 'PORT', 'RETENTION_OPERATION_EVENTS'],
      );
    });
  });

  describe('retention', () => {
    it('keeps operation events and specs and webhook deliveries 30 days, idempotency keys 24 hours, drift history 90 days and kubeconfig reads a year by default', () => {
      const c = loadConfig({});
      assert.deepEqual(
        [
          c.RETENTION_OPERATION_EVENTS,
          c.RETENTION_OPERATION_SPECS,
          c.RETENTION_IDEMPOTENCY_KEYS,
          c.RETENTION_WEBHOOK_DELIVERIES,
          c.RETENTION_DRIFT_HISTORY,
          c.RETENTION_KUBECONFIG_READS,
        ],
        [30 * DAY, 30 * DAY, DAY, 30 * DAY, 90 * DAY, 365 * DAY],
      );
      assert.deepEqual([c.RETENTION_INTERVAL_MS, c.RETENTION_BATCH_SIZE, c.RETENTION_BATCH_PAUSE_MS], [900_000, 500, 100]);
    });

    it('takes durations, and off for keeping a kind forever', () => {
      const c = loadConfig({ RETENTION_OPERATION_EVENTS: '7d', RETENTION_IDEMPOTENCY_KEYS: '90m', RETENTION_KUBECONFIG_READS: 'off' });
      assert.equal(c.RETENTION_OPERATION_EVENTS, 7 * DAY);
      assert.equal(c.RETENTION_IDEMPOTENCY_KEYS, 90 * 60_000);
      assert.equal(c.RETENTION_KUBECONFIG_READS, null);
    });

    it('names the key and the rule of a retention that is no duration, and of a batch size out of range', () => {
      assert.equal(
        refusal({ RETENTION_DRIFT_HISTORY: '90 days', RETENTION_BATCH_SIZE: '0' }),
        'invalid configuration:\n' +
          '  RETENTION_BATCH_SIZE: Too small: expected number to be >=1\n' +
          '  RETENTION_DRIFT_HISTORY: RETENTION_DRIFT_HISTORY must be a duration like 30d, 24h or 90m, or off',
      );
    });
  });

  describe('shutdown and the expiry watch', () => {
    it('waits no moment before closing the listener, gives requests 20 s and reads expiries 500 at a time by default', () => {
      const c = loadConfig({});
      assert.deepEqual([c.HTTP_SHUTDOWN_DELAY_MS, c.HTTP_SHUTDOWN_GRACE_MS, c.EXPIRY_BATCH_SIZE], [0, 20_000, 500]);
    });

    it('names the key and the rule of a delay, a grace or a batch size out of range', () => {
      assert.equal(
        refusal({ HTTP_SHUTDOWN_DELAY_MS: '-1', HTTP_SHUTDOWN_GRACE_MS: 'soon', EXPIRY_BATCH_SIZE: '0' }),
        'invalid configuration:\n' +
          '  HTTP_SHUTDOWN_DELAY_MS: Too small: expected number to be >=0\n' +
          '  HTTP_SHUTDOWN_GRACE_MS: Invalid input: expected number, received NaN\n' +
          '  EXPIRY_BATCH_SIZE: Too small: expected number to be >=1',
      );
    });
  });
});
