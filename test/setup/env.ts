/**
 * Runs in every test worker before its file: the services of the global setup, as the environment
 * the tests, the harness and the processes they start read (PATH leads to the pinned Pulumi CLI).
 */
import path from 'node:path';
import { inject } from 'vitest';

const services = inject('services');
process.env.TEST_REDIS_URL = services.redisUrl;
process.env.TEST_DATABASE_URL = services.databaseUrl;
process.env.CLUSTERD_SCHEMATHESIS = services.schemathesis;
process.env.CLUSTERD_TEST_PGLITE_TEMPLATE = services.pgliteTemplate;
process.env.CLUSTERD_TEST_BLUEPRINTS = services.testBlueprints;
// The suite runs hundreds of short-lived Pulumi CLI processes on a machine whose CPU is the bottleneck:
// collecting garbage less often takes a fifth off each one's CPU, for memory a test does not miss.
process.env.GOGC ??= '400';
if (!process.env.PATH?.split(path.delimiter).includes(services.pulumiDir))
  process.env.PATH = `${services.pulumiDir}${path.delimiter}${process.env.PATH ?? ''}`;
