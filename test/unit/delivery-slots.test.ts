import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { DeliverySlots, defaultShares } from '../../queue/delivery-slots.js';

describe('delivery slots', () => {
  let clock = 0;
  const slots = () => new DeliverySlots({ maxPerReceiver: 1, maxPerTeam: 2, now: () => clock });
  const take = (s: DeliverySlots, receiver: string, team: string | null) => s.take({ receiver, team });

  it('gives one receiver at most its share, while other receivers still get slots', () => {
    const s = slots();
    clock = 1000;
    const first = take(s, 'https://dead.example.com', 'alpha');
    assert.equal(first.taken, true);
    clock = 4000;
    assert.deepEqual(take(s, 'https://dead.example.com', 'beta'), { taken: false, busyForMs: 3000 }, 'the receiver is full whoever sends');
    assert.equal(take(s, 'https://alive.example.com', 'beta').taken, true);
    assert.deepEqual(s.inFlight(), {
      'receiver https://dead.example.com': 1,
      'team alpha': 1,
      'receiver https://alive.example.com': 1,
      'team beta': 1,
    });
  });

  it('gives one team at most its share across all its receivers, and takes nothing when refusing', () => {
    const s = slots();
    clock = 0;
    assert.equal(take(s, 'http://a.example.com', 'alpha').taken, true);
    clock = 500;
    assert.equal(take(s, 'http://b.example.com', 'alpha').taken, true);
    clock = 700;
    assert.deepEqual(take(s, 'http://c.example.com', 'alpha'), { taken: false, busyForMs: 700 });
    assert.equal(s.inFlight()['receiver http://c.example.com'], undefined, 'a refused take holds nothing');
    assert.equal(take(s, 'http://c.example.com', 'beta').taken, true);
  });

  it("counts an admin's all-teams subscriptions as one share", () => {
    const s = slots();
    assert.equal(take(s, 'http://a.example.com', null).taken, true);
    assert.equal(take(s, 'http://b.example.com', null).taken, true);
    assert.equal(take(s, 'http://c.example.com', null).taken, false);
  });

  it('frees the slot on release, once however often it is released', () => {
    const s = slots();
    const held = take(s, 'http://a.example.com', 'alpha');
    assert.ok(held.taken);
    held.release();
    held.release();
    assert.deepEqual(s.inFlight(), {});
    const again = take(s, 'http://a.example.com', 'alpha');
    const other = take(s, 'http://b.example.com', 'alpha');
    assert.ok(again.taken && other.taken);
    assert.equal(take(s, 'http://c.example.com', 'alpha').taken, false, 'a double release did not free a second slot');
  });

  it('reports how long the oldest attempt of a full share has run', () => {
    const s = new DeliverySlots({ maxPerReceiver: 2, maxPerTeam: 8, now: () => clock });
    clock = 100;
    const first = take(s, 'http://a.example.com', 'alpha');
    clock = 200;
    take(s, 'http://a.example.com', 'alpha');
    clock = 1100;
    assert.deepEqual(take(s, 'http://a.example.com', 'alpha'), { taken: false, busyForMs: 1000 });
    if (first.taken) first.release();
    assert.equal(take(s, 'http://a.example.com', 'alpha').taken, true);
  });

  it('defaults to a quarter of the concurrency per receiver and half per team, at least one', () => {
    assert.deepEqual(defaultShares(4), { maxPerReceiver: 1, maxPerTeam: 2 });
    assert.deepEqual(defaultShares(1), { maxPerReceiver: 1, maxPerTeam: 1 });
    assert.deepEqual(defaultShares(8), { maxPerReceiver: 2, maxPerTeam: 4 });
    assert.deepEqual(defaultShares(5), { maxPerReceiver: 2, maxPerTeam: 3 });
  });

  it('refuses shares that are not positive integers', () => {
    assert.throws(() => new DeliverySlots({ maxPerReceiver: 0, maxPerTeam: 1 }), {
      message: 'maxPerReceiver must be an integer of at least 1',
    });
    assert.throws(() => new DeliverySlots({ maxPerReceiver: 1, maxPerTeam: 1.5 }), {
      message: 'maxPerTeam must be an integer of at least 1',
    });
  });
});
