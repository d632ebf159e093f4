import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe } from 'vitest';
import { type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';

/** A receiver that accepts every connection and never answers; it counts what it holds open. */
interface Hanging {
  url: string;
  open: number;
  maxOpen: number;
  accepted: number;
  close(): Promise<void>;
}

async function startHanging(onChange: () => void): Promise<Hanging> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    hanging.accepted++;
    hanging.open = sockets.size;
    hanging.maxOpen = Math.max(hanging.maxOpen, sockets.size);
    onChange();
    socket.on('close', () => {
      sockets.delete(socket);
      hanging.open = sockets.size;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hanging: Hanging = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    open: 0,
    maxOpen: 0,
    accepted: 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return hanging;
}

const it = harnessTest({
  env: {
    ...ALLOW_LOOPBACK_RECEIVERS,
    WEBHOOK_TIMEOUT_MS: '20000',
    WEBHOOK_BACKOFF_MS: '50',
    WEBHOOK_MAX_ATTEMPTS: '2',
    RATE_LIMIT_WEBHOOK_TESTS: '100/1m',
  },
});

/**
 * Fair slots with the default WEBHOOK_CONCURRENCY (4): a receiver that never answers, with many
 * deliveries queued and a 20 s timeout, must not hold the slots another team's delivery needs.
 */
describe('a webhook receiver that never answers', () => {
  let h: Harness;
  let healthy: Receiver;
  let deadA: Hanging;
  let deadB: Hanging;
  /** Most connections alpha's two dead receivers held at once, together. */
  let maxTogether = 0;
  const track = () => void (maxTogether = Math.max(maxTogether, (deadA?.open ?? 0) + (deadB?.open ?? 0)));

  it.beforeAll(async ({ harness }) => {
    healthy = await startReceiver();
    deadA = await startHanging(track);
    deadB = await startHanging(track);
    h = harness;
  });
  afterAll(async () => {
    // Free the attempts in flight first, so that the workers' drain does not wait out their timeout.
    await deadA?.close();
    await deadB?.close();
    await healthy?.close();
  });

  const subscribe = async (url: string, token: string) => {
    const res = await h.api('POST', '/v1/webhooks', { token, body: { url, events: ['operation.succeeded'] } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const ping = async (id: string, token: string) => assert.equal((await h.api('POST', `/v1/webhooks/${id}/test`, { token })).status, 202);
  const until = async (what: string, ok: () => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it("holds only its share of the slots while another team's delivery goes through within seconds", async () => {
    const alpha = await h.teamToken('alpha');
    const beta = await h.teamToken('beta');
    const [subA, subB] = [await subscribe(deadA.url, alpha), await subscribe(deadB.url, alpha)];
    // Twelve deliveries to dead receivers, queued ahead: without shares they fill all 4 slots for 20 s.
    for (let i = 0; i < 6; i++) {
      await ping(subA, alpha);
      await ping(subB, alpha);
    }
    await until('both dead receivers to hold an attempt', () => deadA.open >= 1 && deadB.open >= 1);

    const subHealthy = await subscribe(healthy.url('/beta'), beta);
    const started = Date.now();
    await ping(subHealthy, beta);
    await healthy.waitFor('/beta', 1, 25_000);
    const tookMs = Date.now() - started;
    // Generous for a loaded machine; the point is it does not wait out the 20 s timeout.
    assert.ok(tookMs < 8000, `another team's delivery took ${tookMs} ms`);

    // Shares: one attempt per receiver, two for the team, in this one worker process.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(deadA.maxOpen, 1, 'one receiver held more than its share');
    assert.equal(deadB.maxOpen, 1, 'one receiver held more than its share');
    assert.ok(maxTogether <= 2, `the team held ${maxTogether} slots`);

    // Deliveries that waited for their receiver's share counted no attempt.
    for (const id of [subA, subB]) {
      const log = (await h.api('GET', `/v1/webhooks/${id}/deliveries`, { token: alpha })).body.items;
      assert.equal(log.length, 6);
      assert.ok(
        log.every((d: any) => d.status === 'pending' && d.attemptCount === 0),
        JSON.stringify(log.map((d: any) => [d.status, d.attemptCount])),
      );
    }
    assert.equal(deadA.accepted + deadB.accepted, 2, 'a deferred delivery was sent anyway');
  });
});
