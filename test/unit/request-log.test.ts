import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { requestLog, requestLogging } from '../../server/request-log.js';

describe('request ids and the access log', () => {
  const lines: Array<Record<string, unknown>> = [];
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const log = pino({ level: 'info' }, sink);
    const app = express();
    app.use(requestLogging(log));
    app.get('/v1/things/:id', (_req, res) => {
      requestLog(res, log).info('looking at a thing');
      res.json({ ok: true });
    });
    const server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(url + path, { headers });
  const linesOf = async (id: string) => {
    await new Promise((r) => setTimeout(r, 50));
    return lines.filter((l) => l.requestId === id);
  };

  it("keeps the client's id, echoes it, and writes it on every line of the request, the access line last", async () => {
    const res = await get('/v1/things/7?secret-looking=query', { 'x-request-id': 'portal-42:abc' });
    assert.equal(res.headers.get('x-request-id'), 'portal-42:abc');
    const mine = await linesOf('portal-42:abc');
    assert.deepEqual(
      mine.map((l) => l.msg),
      ['looking at a thing', 'request'],
    );
    const access = mine[1]!;
    assert.deepEqual(
      [access.method, access.path, access.route, access.status, access.complete],
      ['GET', '/v1/things/7', '/v1/things/:id', 200, true],
    );
    assert.equal(typeof access.durationMs, 'number');
    assert.ok(!JSON.stringify(mine).includes('secret-looking'), 'the query is not logged');
  });

  it('gives a request without an id, or with one that could forge a log line, a new one', async () => {
    for (const given of [undefined, 'x'.repeat(129), 'two words', 'semi;colon']) {
      const res = await get('/v1/things/1', given === undefined ? {} : { 'x-request-id': given });
      const id = res.headers.get('x-request-id')!;
      assert.match(id, /^[0-9a-f-]{36}$/, String(given));
      assert.equal((await linesOf(id)).length, 2);
    }
  });
});
