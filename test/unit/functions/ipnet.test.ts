import { describe, expect, it } from 'vitest';
import { typeString } from '../../../src/template/eval/types.js';
import { call, fails, run } from './helpers.js';

describe('cidrhost', () => {
  it('computes the documented host addresses', () => {
    expect(run('cidrhost', '10.12.127.0/20', 16)).toBe('10.12.112.16');
    expect(run('cidrhost', '10.12.127.0/20', 268)).toBe('10.12.113.12');
    expect(run('cidrhost', 'fd00:fd12:3456:7890:00a2::/72', 34)).toBe('fd00:fd12:3456:7890::22');
    expect(run('cidrhost', '10.1.2.240/28', 1)).toBe('10.1.2.241');
    expect(run('cidrhost', '10.1.2.240/28', 14)).toBe('10.1.2.254');
  });

  it('counts negative host numbers from the end', () => {
    expect(run('cidrhost', '10.0.0.0/24', -1)).toBe('10.0.0.255');
    expect(run('cidrhost', '10.0.0.0/24', -256)).toBe('10.0.0.0');
    fails('cidrhost', ['10.0.0.0/24', -257], 'prefix of 24 does not accommodate a host numbered -257', 1);
  });

  it('reports hosts outside the prefix and bad prefixes', () => {
    fails('cidrhost', ['10.0.0.0/30', 4], 'prefix of 30 does not accommodate a host numbered 4', 1);
    for (const bad of ['10.0.0.0', '10.0.0.256/8', '010.0.0.0/8', '10.0.0.0/33', '10.0.0.0/x', 'fd00::1::/64', 'fe80::1%eth0/64']) {
      fails('cidrhost', [bad, 1], `invalid CIDR expression: invalid CIDR address: ${bad}`, 0);
    }
  });

  it('prints IPv6 as Go does', () => {
    expect(run('cidrhost', '::/0', 1)).toBe('::1');
    expect(run('cidrhost', '2001:db8::/32', 0)).toBe('2001:db8::');
    expect(run('cidrhost', '2001:0:0:1::/64', 1)).toBe('2001:0:0:1::1');
    expect(run('cidrhost', '1:0:0:2:0:0:0:0/128', 0)).toBe('1:0:0:2::');
    expect(run('cidrhost', '::ffff:10.0.0.0/120', 5)).toBe('10.0.0.5');
  });
});

describe('cidrnetmask', () => {
  it('gives the documented mask', () => {
    expect(run('cidrnetmask', '172.16.0.0/12')).toBe('255.240.0.0');
    expect(run('cidrnetmask', '10.0.0.0/0')).toBe('0.0.0.0');
    expect(run('cidrnetmask', '10.0.0.1/32')).toBe('255.255.255.255');
    expect(run('cidrnetmask', 'fd00::/64')).toBe('ffff:ffff:ffff:ffff::');
  });
});

describe('cidrsubnet', () => {
  it('computes the documented subnets', () => {
    expect(run('cidrsubnet', '172.16.0.0/12', 4, 2)).toBe('172.18.0.0/16');
    expect(run('cidrsubnet', '10.1.2.0/24', 4, 15)).toBe('10.1.2.240/28');
    expect(run('cidrsubnet', 'fd00:fd12:3456:7890::/56', 16, 162)).toBe('fd00:fd12:3456:7800:a200::/72');
  });

  it('reports impossible subnets as go-cidr does', () => {
    fails('cidrsubnet', ['10.0.0.0/30', 3, 0], 'insufficient address space to extend prefix of 30 by 3', 1);
    fails('cidrsubnet', ['10.0.0.0/24', 4, 16], 'prefix extension of 4 does not accommodate a subnet numbered 16', 2);
    fails('cidrsubnet', ['fd00::/16', 33, 0], 'may not extend prefix by more than 32 bits', 1);
    fails('cidrsubnet', ['10.0.0.0/8', 1.5, 0], 'Invalid value for "newbits" parameter: a whole number is required', 1);
  });
});

describe('cidrsubnets', () => {
  it('allocates the documented consecutive subnets', () => {
    expect(run('cidrsubnets', '10.1.0.0/16', 4, 4, 8, 4)).toEqual(['10.1.0.0/20', '10.1.16.0/20', '10.1.32.0/24', '10.1.48.0/20']);
    expect(run('cidrsubnets', 'fd00:fd12:3456:7890::/56', 16, 16, 16, 32)).toEqual([
      'fd00:fd12:3456:7800::/72',
      'fd00:fd12:3456:7800:100::/72',
      'fd00:fd12:3456:7800:200::/72',
      'fd00:fd12:3456:7800:300::/88',
    ]);
    const nested = (call('cidrsubnets', '10.0.0.0/8', 8, 8, 8, 8).elems()).map((block) => run('cidrsubnets', block, 4, 4));
    expect(nested).toEqual([
      ['10.0.0.0/20', '10.0.16.0/20'],
      ['10.1.0.0/20', '10.1.16.0/20'],
      ['10.2.0.0/20', '10.2.16.0/20'],
      ['10.3.0.0/20', '10.3.16.0/20'],
    ]);
    expect(typeString(call('cidrsubnets', '10.0.0.0/8').type)).toBe('list(string)');
    expect(run('cidrsubnets', '0.0.0.0/8', 4)).toEqual(['0.0.0.0/12']);
  });

  it('reports what does not fit', () => {
    fails('cidrsubnets', ['10.0.0.0/30', 1, 1, 1], 'not enough remaining address space for a subnet with a prefix of 31 bits after 10.0.0.2/31', 3);
    fails('cidrsubnets', ['10.0.0.0/24', 0], 'must extend prefix by at least one bit', 1);
    fails('cidrsubnets', ['10.0.0.0/24', 9], 'would extend prefix to 33 bits, which is too long for an IPv4 address', 1);
    fails('cidrsubnets', ['10.0.0.0/24', 33], 'may not extend prefix by more than 32 bits', 1);
  });
});
