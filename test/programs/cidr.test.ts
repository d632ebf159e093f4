import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { cidrProblem, cidrSubnet, overlaps, parseCidr } from '../../programs/cidr.js';

describe('CIDR helpers', () => {
  it('accept network blocks and refuse host addresses, bad octets and bad prefixes', () => {
    assert.equal(cidrProblem('10.0.0.0/16'), null);
    assert.equal(cidrProblem('0.0.0.0/0'), null);
    assert.equal(cidrProblem('203.0.113.7/32'), null);
    assert.equal(cidrProblem('10.0.0.1/16'), 'has host bits set: the network is 10.0.0.0/16');
    assert.equal(cidrProblem('10.0.0.256/24'), 'must be an IPv4 CIDR block like 10.0.0.0/16');
    assert.equal(cidrProblem('10.0.0.0/33'), 'must be an IPv4 CIDR block like 10.0.0.0/16');
    assert.equal(cidrProblem('10.0.0.0'), 'must be an IPv4 CIDR block like 10.0.0.0/16');
  });

  it('carve sub-blocks like Terraform cidrsubnet', () => {
    assert.equal(cidrSubnet('10.0.0.0/16', 3, 0), '10.0.0.0/19');
    assert.equal(cidrSubnet('10.0.0.0/16', 3, 5), '10.0.160.0/19');
    assert.equal(cidrSubnet('10.0.0.0/16', 6, 63), '10.0.252.0/22');
    assert.throws(() => cidrSubnet('10.0.0.0/16', 3, 8), { message: 'cidrSubnet: 10.0.0.0/16 has no sub-block 8 of /19' });
  });

  it('tell overlapping blocks from adjacent ones', () => {
    assert.equal(overlaps(parseCidr('10.0.0.0/20')!, parseCidr('10.0.8.0/24')!), true);
    assert.equal(overlaps(parseCidr('10.0.0.0/20')!, parseCidr('10.0.16.0/20')!), false);
  });
});
