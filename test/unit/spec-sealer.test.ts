import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { parseRecordsKey } from '../../src/secrets/records-key.js';
import { hasClearFields, SEALED_KEY, SealError, SpecSealer } from '../../src/secrets/spec-sealer.js';

describe('SpecSealer', () => {
  const sealer = new SpecSealer(randomBytes(32));
  const spec = { version: '1.30', token: 'hunter2-token', nested: { password: ['a', 1, true] }, plain: 'visible' };

  it('seals only the write-only fields, and opens them back to the same values', () => {
    const sealed = sealer.seal(spec, ['token', 'nested', 'absent']);
    assert.equal(sealed.version, '1.30');
    assert.equal(sealed.plain, 'visible');
    assert.deepEqual(Object.keys(sealed.token as object), [SEALED_KEY]);
    assert.ok(!JSON.stringify(sealed).includes('hunter2-token'));
    assert.ok(!JSON.stringify(sealed).includes('password'));
    assert.ok(!('absent' in sealed));
    assert.deepEqual(sealer.open(sealed), spec);
  });

  it('gives a fresh ciphertext each time, and keeps a value already sealed as it is', () => {
    const once = sealer.seal(spec, ['token']);
    assert.notDeepEqual(sealer.seal(spec, ['token']).token, once.token);
    assert.equal(sealer.seal(once, ['token']), once, 'nothing to seal: the same object');
    assert.equal(sealer.open({ plain: 1 }).plain, 1);
  });

  it('refuses a value moved to another field, altered, or sealed with another key', () => {
    const sealed = sealer.seal(spec, ['token', 'plain']);
    assert.throws(
      () => sealer.open({ plain: sealed.token }),
      (err: unknown) => err instanceof SealError && /spec\.plain could not be opened: the sealed value was altered/.test(err.message),
    );
    const text = (sealed.token as Record<string, string>)[SEALED_KEY]!;
    const flipped = `${text.slice(0, -3)}${text.slice(-3, -2) === 'A' ? 'B' : 'A'}${text.slice(-2)}`;
    assert.throws(() => sealer.open({ token: { [SEALED_KEY]: flipped } }), SealError);
    const other = new SpecSealer(randomBytes(32));
    assert.throws(
      () => other.open(sealed),
      (err: unknown) =>
        err instanceof SealError &&
        err.message.includes(`sealed with another records key (${sealer.keyId})`) &&
        err.message.includes('CLUSTERD_RECORDS_KEY'),
    );
    assert.throws(() => sealer.open({ token: { [SEALED_KEY]: 'v9:x:y' } }), /unknown form/);
  });

  it('tells which specs still hold write-only values in clear', () => {
    assert.equal(hasClearFields(spec, ['token']), true);
    assert.equal(hasClearFields(sealer.seal(spec, ['token']), ['token']), false);
    assert.equal(hasClearFields(spec, ['absent']), false);
    assert.equal(hasClearFields(null, ['token']), false);
  });

  it('takes a key of exactly 32 bytes, in base64 or base64url', () => {
    const key = randomBytes(32);
    assert.deepEqual(parseRecordsKey(key.toString('base64')), key);
    assert.deepEqual(parseRecordsKey(key.toString('base64url')), key);
    assert.throws(() => parseRecordsKey(randomBytes(16).toString('base64')), /must be 32 bytes in base64 \(got 16 bytes\)/);
    assert.throws(() => new SpecSealer(randomBytes(31)), /32 bytes/);
  });
});
