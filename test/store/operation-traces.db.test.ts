import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { migrate } from '../../src/store/migrations.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import type { SqlClient } from '../../src/store/sql.js';
import { contextOf, inSpan, startTracing, type Tracing } from '../../src/tracing/tracing.js';
import { pgliteBackend, postgresBackend, type Backend } from '../support/databases.js';

const requestedBy = 'alice (team payments)';
const REQUEST = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function suite(label: string, openBackend: () => Promise<Backend>): void {
  describe(`the trace of an operation, over ${label}`, () => {
    let backend: Backend;
    let sql: SqlClient;
    let store: SqlRecordStore;
    let tracing: Tracing;
    const exporter = new InMemorySpanExporter();

    beforeAll(async () => {
      backend = await openBackend();
      [sql] = (await backend.clients(1)) as [SqlClient];
      await migrate(sql);
      store = new SqlRecordStore(sql);
      tracing = await startTracing({ serviceName: 'clusterd', cliTraces: null }, { exporter });
    });
    afterAll(async () => {
      await tracing?.shutdown();
      await backend?.cleanup();
    });

    const create = () =>
      store.createCluster(
        { name: `c-${randomUUID().slice(0, 8)}`, team: 'payments', blueprint: 'kind', labels: {}, spec: { nodes: 1 } },
        { kind: 'provision', requestedBy },
      );

    it("is recorded at insert: the traceparent of the insert's span, a child of the span that accepted it", async () => {
      const { cluster, operation } = await inSpan('HTTP POST /v1/clusters', { parent: contextOf(REQUEST) }, create);
      await tracing.flush();
      const record = exporter.getFinishedSpans().find((s) => s.attributes['clusterd.operation.id'] === operation.id);
      assert.ok(record, 'a span recorded it');
      assert.equal(record.name, 'record operation');
      assert.deepEqual(record.attributes, {
        'clusterd.operation.id': operation.id,
        'clusterd.operation.kind': 'provision',
        'clusterd.cluster.name': cluster.name,
        'clusterd.blueprint': 'kind',
      });
      assert.equal(operation.traceParent, `00-${record.spanContext().traceId}-${record.spanContext().spanId}-01`);
      const accepted = exporter.getFinishedSpans().find((s) => s.name === 'HTTP POST /v1/clusters');
      assert.equal(record.parentSpanContext?.spanId, accepted?.spanContext().spanId);
      assert.equal(record.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.deepEqual(await store.getOperation(operation.id), operation);
    });

    it('starts a trace of its own for an operation accepted outside any span (a background pass)', async () => {
      const { operation } = await create();
      assert.match(operation.traceParent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.notEqual(operation.traceParent?.slice(3, 35), '4bf92f3577b34da6a3ce929d0e0e4736');
    });

    it('holds ids and flags only: the records refuse anything else', async () => {
      const { operation } = await create();
      await assert.rejects(
        sql.query('UPDATE operations SET trace_parent = $2 WHERE id = $1', [operation.id, 'Bearer s3cr3t']),
        /operations_trace_parent_format/,
      );
    });
  });
}

suite('PGlite', () => pgliteBackend());
if (process.env.TEST_DATABASE_URL) suite('PostgreSQL', () => postgresBackend(process.env.TEST_DATABASE_URL!));
