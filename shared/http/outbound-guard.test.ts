import { describe, expect, it } from 'vitest';
import { allowList, isAllowListEntry, isPublicAddress, targetProblem } from './outbound-guard';

describe('isPublicAddress', () => {
  it.each([
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '169.254.169.254', // AWS, GCP, Azure metadata
    '100.100.100.200', // Alibaba metadata
    '192.0.0.192', // Oracle metadata
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd00:ec2::254', // AWS IPv6 metadata
    'ff02::1',
    '2001:db8::1',
    '::ffff:127.0.0.1', // IPv4-mapped loopback
    '::ffff:7f00:1', // the same, in hex
    '::ffff:a9fe:a9fe', // mapped metadata address
    '::ffff:10.0.0.1',
    '64:ff9b::a9fe:a9fe', // NAT64 of the metadata address
    '64:ff9b::10.1.1.1',
    '2002:7f00:1::1', // 6to4 of loopback
    '2002:c0a8:101::', // 6to4 of 192.168.1.1
    '::127.0.0.1', // IPv4-compatible
    '2001::1', // Teredo
    'not-an-address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('accepts %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('allowList', () => {
  const allow = allowList(['127.0.0.1', '10.20.0.0/16', 'fd00::/8', 'hooks.internal', '*.corp.example']);

  it('matches addresses and ranges, IPv4-mapped forms included', () => {
    expect(allow.allowsAddress('127.0.0.1')).toBe(true);
    expect(allow.allowsAddress('::ffff:127.0.0.1')).toBe(true);
    expect(allow.allowsAddress('127.0.0.2')).toBe(false);
    expect(allow.allowsAddress('10.20.99.1')).toBe(true);
    expect(allow.allowsAddress('10.21.0.1')).toBe(false);
    expect(allow.allowsAddress('fd12::1')).toBe(true);
    expect(allow.allowsAddress('fe80::1')).toBe(false);
    expect(allow.allowsAddress('hooks.internal')).toBe(false);
  });

  it('matches host names exactly or under a *.suffix, in any letter case', () => {
    expect(allow.allowsHost('hooks.internal')).toBe(true);
    expect(allow.allowsHost('HOOKS.internal.')).toBe(true);
    expect(allow.allowsHost('evil-hooks.internal')).toBe(false);
    expect(allow.allowsHost('a.b.corp.example')).toBe(true);
    expect(allow.allowsHost('corp.example')).toBe(false);
    expect(allow.allowsHost('xcorp.example')).toBe(false);
  });

  it('knows what an entry may be', () => {
    for (const entry of [
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      'hooks.internal',
      '*.corp.example',
      'receiver',
    ])
      expect(isAllowListEntry(entry), entry).toBe(true);
    for (const entry of ['10.0.0.0/33', '::/129', 'http://x', 'a b', '*', '10.0.0.0/8/1', '*.'])
      expect(isAllowListEntry(entry), entry).toBe(false);
  });
});

describe('targetProblem', () => {
  const none = allowList([]);
  const loopback = allowList(['127.0.0.1']);

  it('accepts public https URLs and refuses the rest, before any name is resolved', () => {
    expect(targetProblem('https://hooks.example.com/x?y=1', none)).toBeNull();
    expect(targetProblem('https://8.8.8.8:8443/x', none)).toBeNull();
    expect(targetProblem('http://hooks.example.com/x', none)).toMatch(/https/);
    expect(targetProblem('ftp://hooks.example.com/x', none)).toMatch(/https/);
    expect(targetProblem('https://127.0.0.1/x', none)).toMatch(/private, loopback/);
    expect(targetProblem('https://[::1]/x', none)).toMatch(/private, loopback/);
    expect(targetProblem('https://[::ffff:169.254.169.254]/', none)).toMatch(/private, loopback/);
    // The URL parser reads these as 127.0.0.1.
    expect(targetProblem('https://2130706433/', none)).toMatch(/private, loopback/);
    expect(targetProblem('https://0x7f.1/', none)).toMatch(/private, loopback/);
    expect(targetProblem('https://localhost:8080/', none)).toMatch(/this machine/);
    expect(targetProblem('https://api.localhost/', none)).toMatch(/this machine/);
    expect(targetProblem('https://u:p@hooks.example.com/', none)).toMatch(/user name/);
    expect(targetProblem('/relative', none)).toMatch(/absolute/);
  });

  it('lets allow-listed hosts through, over plain http too', () => {
    expect(targetProblem('http://127.0.0.1:8080/hook', loopback)).toBeNull();
    expect(targetProblem('https://127.0.0.1/hook', loopback)).toBeNull();
    expect(targetProblem('http://127.0.0.2/hook', loopback)).toMatch(/https/);
    expect(targetProblem('https://127.0.0.2/hook', loopback)).toMatch(/private/);
  });
});
