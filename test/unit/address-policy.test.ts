import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createAddressPolicy, parseAllowedHost, parseNetworks, type HostVerdict } from '../../src/webhooks/address-policy.js';
import { createReceiverCheck } from '../../src/webhooks/receiver-check.js';

const policy = createAddressPolicy();
/** How the policy judges the host of a URL, as the sender and the registration check see it. */
const judgeUrl = (url: string, p = policy): HostVerdict => p.checkHost(new URL(url).hostname);
const reasonOf = (v: { allowed: boolean; reason?: string }) => (v.allowed ? 'allowed' : v.reason);

describe('the webhook address policy', () => {
  describe('refuses every spelling of loopback in a URL', () => {
    const spellings = [
      'http://127.0.0.1/',
      'http://127.1/',
      'http://127.0.1/',
      'http://2130706433/',
      'http://0x7f000001/',
      'http://0x7f.0.0.1/',
      'http://0x7f.1/',
      'http://0177.0.0.1/',
      'http://0177.1/',
      'http://017700000001/',
      'http://127.255.255.254/',
      'http://[::1]/',
      'http://[0:0:0:0:0:0:0:1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:7f00:1]/',
      'http://[0:0:0:0:0:ffff:127.0.0.1]/',
      'http://[64:ff9b::127.0.0.1]/',
      'http://[::ffff:0:127.0.0.1]/',
      'http://127.0.0.1:6381/',
      'https://127.0.0.1:443/',
    ];
    for (const url of spellings) {
      it(url, () => {
        const v = judgeUrl(url);
        assert.equal(v.kind, 'address');
        assert.equal(reasonOf(v.verdict), 'loopback');
      });
    }
  });

  describe('refuses addresses that are not ordinary public unicast', () => {
    const cases: Array<[string, string]> = [
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['::', 'unspecified'],
      ['[::]', 'unspecified'],
      ['255.255.255.255', 'broadcast'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['ff02::1', 'multicast'],
      ['169.254.169.254', 'link-local, where cloud metadata lives'],
      ['169.254.0.23', 'link-local, where cloud metadata lives'],
      ['fe80::1', 'link-local'],
      ['10.0.0.1', 'private network'],
      ['172.16.0.1', 'private network'],
      ['172.31.255.254', 'private network'],
      ['192.168.1.1', 'private network'],
      ['100.64.0.1', 'carrier-grade NAT'],
      ['100.100.100.200', 'carrier-grade NAT'],
      ['fc00::1', 'unique local'],
      ['fd00:ec2::254', 'unique local'],
      ['fec0::1', 'site-local'],
      ['192.0.0.192', 'reserved'],
      ['192.0.2.1', 'reserved'],
      ['198.18.0.1', 'reserved'],
      ['198.51.100.7', 'reserved'],
      ['203.0.113.9', 'reserved'],
      ['240.0.0.1', 'reserved'],
      ['2001:db8::1', 'reserved'],
      ['2001:2::1', 'reserved'],
      ['100::1', 'reserved'],
      ['3fff::1', 'reserved'],
      ['4000::1', 'reserved'],
      ['::2', 'IPv4-compatible, embeds an IPv4 address'],
      ['::ffff:10.0.0.1', 'private network'],
      ['::ffff:a9fe:a9fe', 'link-local, where cloud metadata lives'],
      ['64:ff9b::a9fe:a9fe', 'link-local, where cloud metadata lives'],
      ['64:ff9b:1::a00:1', 'NAT64 local use'],
      ['2002:7f00:1::1', '6to4, embeds an IPv4 address'],
      ['2002:808:808::1', '6to4, embeds an IPv4 address'],
      ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'Teredo, embeds an IPv4 address'],
      ['168.63.129.16', 'cloud platform endpoint'],
    ];
    for (const [address, reason] of cases) {
      it(`${address}: ${reason}`, () => assert.equal(reasonOf(policy.checkAddress(address)), reason));
    }
    it('refuses what is not an address at all', () => assert.equal(reasonOf(policy.checkAddress('example.com')), 'not an IP address'));
  });

  describe('allows public unicast', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.215.14',
      '172.32.0.1',
      '100.128.0.1',
      '2606:4700:4700::1111',
      '2a00:1450:4001:80b::200e',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
    ]) {
      it(address, () => assert.deepEqual(policy.checkAddress(address), { allowed: true }));
    }
    it('and hands the sender the canonical address of a literal', () => {
      assert.deepEqual(judgeUrl('http://[2606:4700:4700:0:0:0:0:1111]/'), {
        kind: 'address',
        address: '2606:4700:4700::1111',
        verdict: { allowed: true },
      });
    });
  });

  describe('refuses local and metadata names outright', () => {
    const cases: Array<[string, string]> = [
      ['http://localhost/', 'local or private name'],
      ['http://LOCALHOST./', 'local or private name'],
      ['http://api.localhost/', 'local or private name'],
      ['http://metadata.google.internal/', 'cloud metadata name'],
      ['http://metadata.google.internal./', 'cloud metadata name'],
      ['http://metadata.tencentyun.com/', 'cloud metadata name'],
      ['http://instance-data.ec2.internal/', 'local or private name'],
      ['http://metadata/', 'single-label name, resolved inside the local network'],
      ['http://instance-data/', 'single-label name, resolved inside the local network'],
      ['http://printer.local/', 'local or private name'],
      ['http://kubernetes.default.svc/', 'local or private name'],
      ['http://api.default.svc.cluster.local/', 'local or private name'],
      ['http://router.home.arpa/', 'local or private name'],
      ['http://db.corp/', 'local or private name'],
    ];
    for (const [url, reason] of cases) {
      it(url, () => {
        const v = judgeUrl(url);
        assert.equal(v.kind, 'name');
        assert.equal(reasonOf(v.verdict), reason);
      });
    }
    it('lets an ordinary name through to have its addresses checked', () => {
      assert.deepEqual(judgeUrl('https://Hooks.Example.com./x'), {
        kind: 'name',
        name: 'hooks.example.com',
        verdict: { allowed: true },
        trusted: false,
      });
    });
  });

  describe('with an operator allowance', () => {
    const allowing = createAddressPolicy({
      allowedNetworks: ['10.20.0.0/16', '127.0.0.1', 'fd00:1::/64'],
      allowedHosts: ['Hooks.Corp.Internal.', 'ci'],
    });
    it('allows addresses inside the allowed networks, in any spelling', () => {
      for (const a of ['10.20.0.1', '10.20.255.254', '::ffff:10.20.3.4', '127.0.0.1', 'fd00:1::9'])
        assert.deepEqual(allowing.checkAddress(a), { allowed: true }, a);
      assert.equal(reasonOf(judgeUrl('http://2130706433/', allowing).verdict), 'allowed');
    });
    it('still refuses addresses just outside them', () => {
      for (const a of ['10.21.0.1', '127.0.0.2', '::1', 'fd00:2::9', '169.254.169.254'])
        assert.equal(allowing.checkAddress(a).allowed, false, a);
    });
    it('never allows unspecified, broadcast or multicast, even inside an allowed network', () => {
      const everything = createAddressPolicy({ allowedNetworks: ['0.0.0.0/0', '::/0'] });
      assert.deepEqual(
        ['0.0.0.0', '255.255.255.255', '224.0.0.1', '::', 'ff02::1'].map((a) => reasonOf(everything.checkAddress(a))),
        ['unspecified', 'broadcast', 'multicast', 'unspecified', 'multicast'],
      );
      assert.deepEqual(everything.checkAddress('192.168.1.1'), { allowed: true });
    });
    it('trusts an allowed host exactly, not its subdomains', () => {
      assert.deepEqual(judgeUrl('https://hooks.corp.internal/x', allowing), {
        kind: 'name',
        name: 'hooks.corp.internal',
        verdict: { allowed: true },
        trusted: true,
      });
      assert.deepEqual(judgeUrl('https://ci/x', allowing), { kind: 'name', name: 'ci', verdict: { allowed: true }, trusted: true });
      assert.equal(reasonOf(judgeUrl('https://x.hooks.corp.internal/x', allowing).verdict), 'local or private name');
    });
  });

  describe('configuration entries', () => {
    it('reads CIDRs and single addresses, and names the entry that is neither', () => {
      assert.equal(parseNetworks(['10.0.0.0/8', 'fd00::/8', '192.168.1.7']).length, 3);
      assert.throws(() => parseNetworks(['10.0.0.0/8', '10.0.0.0/33']), {
        message: '"10.0.0.0/33" is not a network like 10.0.0.0/8 or fd00::/8, nor an address',
      });
      assert.throws(() => parseNetworks(['hooks.example.com']), /"hooks.example.com" is not a network/);
    });
    it('reads host names, and sends addresses to the networks list', () => {
      assert.equal(parseAllowedHost('Hooks.Example.COM.'), 'hooks.example.com');
      assert.throws(() => parseAllowedHost('10.0.0.1'), { message: '"10.0.0.1" is an address: put addresses in WEBHOOK_ALLOWED_NETWORKS' });
      assert.throws(() => parseAllowedHost('https://hooks.example.com'), { message: '"https://hooks.example.com" is not a host name' });
    });
    it('are checked at start, every bad entry reported with the others', () => {
      assert.throws(
        () =>
          loadConfig({
            WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/33, 127.0.0.1, nope',
            WEBHOOK_ALLOWED_HOSTS: 'ok.example.com,10.0.0.1',
            WEBHOOK_RECEIVER_MAX_IN_FLIGHT: '0',
          }),
        (err: Error) => {
          assert.match(err.message, /WEBHOOK_ALLOWED_NETWORKS: "10.0.0.0\/33" is not a network/);
          assert.match(err.message, /WEBHOOK_ALLOWED_NETWORKS: "nope" is not a network/);
          assert.match(err.message, /WEBHOOK_ALLOWED_HOSTS: "10.0.0.1" is an address/);
          assert.match(err.message, /WEBHOOK_RECEIVER_MAX_IN_FLIGHT: /);
          return true;
        },
      );
      const config = loadConfig({ WEBHOOK_ALLOWED_NETWORKS: '10.20.0.0/16, 127.0.0.1', WEBHOOK_ALLOWED_HOSTS: 'Hooks.Corp.Internal.' });
      assert.deepEqual(
        [config.WEBHOOK_ALLOWED_NETWORKS, config.WEBHOOK_ALLOWED_HOSTS],
        [['10.20.0.0/16', '127.0.0.1'], ['hooks.corp.internal']],
      );
      const defaults = loadConfig({});
      assert.deepEqual(
        [
          defaults.WEBHOOK_ALLOWED_NETWORKS,
          defaults.WEBHOOK_ALLOWED_HOSTS,
          defaults.WEBHOOK_RECEIVER_MAX_IN_FLIGHT,
          defaults.WEBHOOK_TEAM_MAX_IN_FLIGHT,
        ],
        [[], [], undefined, undefined],
      );
    });
  });
});

describe('the registration check', () => {
  /** The DNS edge, made to answer what the test needs; everything else is real. */
  const resolving = (answers: Record<string, string[]>) => async (name: string) => {
    const list = answers[name];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const check = createReceiverCheck({
    policy,
    resolve: resolving({
      'rebind.example.com': ['93.184.215.14', '127.0.0.1'],
      'ten.example.com': ['10.1.2.3'],
      'public.example.com': ['93.184.215.14', '2606:4700::1'],
      'v6.example.com': ['::1'],
    }),
  });

  it('refuses a name any of whose addresses is internal', async () => {
    assert.deepEqual(await check('https://rebind.example.com/hook'), { allowed: false, reason: 'loopback', by: 'resolution' });
    assert.deepEqual(await check('https://ten.example.com/hook'), { allowed: false, reason: 'private network', by: 'resolution' });
    assert.deepEqual(await check('https://v6.example.com/hook'), { allowed: false, reason: 'loopback', by: 'resolution' });
  });
  it('refuses a literal or a local name without resolving it', async () => {
    assert.deepEqual(await check('http://[::ffff:7f00:1]:6381/'), { allowed: false, reason: 'loopback', by: 'address' });
    assert.deepEqual(await check('http://metadata.google.internal/computeMetadata/v1/'), {
      allowed: false,
      reason: 'cloud metadata name',
      by: 'name',
    });
  });
  it('accepts a public name, and one that does not resolve (yet)', async () => {
    assert.deepEqual(await check('https://public.example.com/hook'), { allowed: true });
    assert.deepEqual(await check('https://not-yet.example.com/hook'), { allowed: true });
  });
  it('accepts a name whose resolver does not answer in time, without waiting for it', async () => {
    const slow = createReceiverCheck({ policy, resolveTimeoutMs: 50, resolve: () => new Promise(() => undefined) });
    const started = Date.now();
    assert.deepEqual(await slow('https://slow.example.com/'), { allowed: true });
    assert.ok(Date.now() - started < 10_000);
  });
  it('does not resolve an allowed host', async () => {
    const trusting = createReceiverCheck({
      policy: createAddressPolicy({ allowedHosts: ['hooks.corp.internal'] }),
      resolve: () => Promise.reject(new Error('must not be called')),
    });
    assert.deepEqual(await trusting('https://hooks.corp.internal/x'), { allowed: true });
  });
});
