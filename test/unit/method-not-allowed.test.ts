import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from 'vitest';
import express from 'express';
import pino from 'pino';
import { errorHandler } from '../../server/error-handler.js';
import { methodNotAllowed } from '../../server/method-not-allowed.js';

describe('a method a described path does not have', () => {
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    const app = express();
    app.use(methodNotAllowed({ '/v1/clusters/{name}': { get: {}, patch: {}, delete: {} }, '/v1/tokens': { post: {} } }));
    app.use((_req, res) => void res.status(299).end());
    app.use(errorHandler(pino({ level: 'silent' })));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close?.());

  it('answers 405 problem+json with Allow listing the methods the path has', async () => {
    const res = await fetch(`${url}/v1/clusters/abc`, { method: 'PUT' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, PATCH, DELETE, HEAD, OPTIONS');
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.deepEqual(await res.json(), {
      type: 'urn:clusterd:problem:method-not-allowed',
      title: 'Method not allowed',
      status: 405,
      detail: 'PUT is not allowed on /v1/clusters/abc; use GET, PATCH, DELETE, HEAD, OPTIONS',
      instance: '/v1/clusters/abc',
    });
  });

  it('matches as the router does: any case, a trailing slash', async () => {
    for (const path of ['/V1/Tokens', '/v1/tokens/']) {
      const res = await fetch(url + path, { method: 'GET' });
      assert.equal(res.status, 405, path);
      assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
    }
  });

  it('answers OPTIONS with 204 and Allow', async () => {
    const res = await fetch(`${url}/v1/tokens`, { method: 'OPTIONS' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
  });

  it('passes on a listed method (HEAD with GET) and a path it does not describe', async () => {
    for (const [method, path] of [
      ['GET', '/v1/clusters/abc'],
      ['HEAD', '/v1/clusters/abc'],
      ['POST', '/v1/tokens'],
      ['PUT', '/elsewhere'],
      ['GET', '/v1/clusters/a/b'],
    ]) {
      assert.equal((await fetch(url + path, { method })).status, 299, `${method} ${path}`);
    }
  });
});
