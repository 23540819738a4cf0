/**
 * Which addresses outbound requests made for users (webhooks, Slack) may reach: public unicast
 * addresses only, unless the operator allow-lists a host name, address or range. IPv6 forms that carry
 * an IPv4 address (mapped, NAT64, 6to4) are judged by that IPv4 address, so `::ffff:127.0.0.1` is
 * loopback. The ranges are IANA's special-purpose registries; the cloud metadata endpoints
 * (169.254.169.254, fd00:ec2::254, 100.100.100.200, 192.0.0.192) all lie inside them.
 */
import { BlockList, isIP } from 'node:net';
import { addressRanges, bareHost, cidrOf, ipv6Groups, quadOf } from './ip-addresses';

export const NON_PUBLIC_V4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT (Alibaba's metadata endpoint)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (the metadata endpoint of AWS, GCP, Azure)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments (Oracle's metadata endpoint)
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

export const NON_PUBLIC_V6: readonly [string, number][] = [
  ['::', 96], // unspecified, loopback, IPv4-compatible
  ['::ffff:0:0:0', 96], // IPv4-translated
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo and others)
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['5f00::', 16], // segment routing
  ['fc00::', 7], // unique local (AWS's IPv6 metadata endpoint)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const nonPublic = new BlockList();
for (const [network, prefix] of NON_PUBLIC_V4) nonPublic.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of NON_PUBLIC_V6) nonPublic.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address an IPv6 address stands for or embeds (mapped, NAT64, 6to4), if any. */
function embeddedIPv4(address: string): string | null {
  const g = ipv6Groups(address);
  const zeros = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return quadOf(g[6]!, g[7]!); // ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return quadOf(g[6]!, g[7]!); // 64:ff9b::a.b.c.d
  if (g[0] === 0x2002) return quadOf(g[1]!, g[2]!); // 2002:aabb:ccdd::
  return null;
}

/** True for a public unicast address; false for anything private, loopback, link-local or reserved. */
export function isPublicAddress(address: string): boolean {
  const bare = bareHost(address);
  const family = isIP(bare);
  if (family === 4) return !nonPublic.check(bare, 'ipv4');
  if (family !== 6) return false;
  const embedded = embeddedIPv4(bare);
  if (embedded !== null && !isPublicAddress(embedded)) return false;
  return !nonPublic.check(bare, 'ipv6');
}

const HOST_PATTERN = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** One entry of NOTIFY_ALLOWED_HOSTS: an address, a CIDR range, a host name or `*.suffix`. */
export const isAllowListEntry = (entry: string): boolean =>
  cidrOf(entry) !== null || HOST_PATTERN.test(entry);

export interface AllowList {
  /** The host name is listed (exactly, or under a `*.suffix` entry). */
  allowsHost(hostname: string): boolean;
  /** The address lies in a listed address or range. */
  allowsAddress(address: string): boolean;
}

export function allowList(entries: readonly string[]): AllowList {
  const ranges: string[] = [];
  const names = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (cidrOf(entry)) ranges.push(entry);
    else if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
    else if (entry) names.add(entry);
  }
  const inRanges = addressRanges(ranges);
  return {
    allowsHost(hostname) {
      const name = hostname.toLowerCase().replace(/\.$/, '');
      return names.has(name) || suffixes.some((suffix) => name.endsWith(suffix));
    },
    allowsAddress: inRanges,
  };
}

/**
 * What is wrong with `raw` as a delivery target before anything is resolved, or null: it must be an
 * absolute https URL without credentials whose host is not a literal non-public address or `localhost`.
 * An allow-listed host may be anything, over plain http too.
 */
export function targetProblem(raw: string, allow: AllowList): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not contain a user name or password';
  const host = bareHost(url.hostname);
  const allowed = allow.allowsHost(host) || (isIP(host) !== 0 && allow.allowsAddress(host));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) return 'must be an https:// URL';
  if (allowed) return null;
  if (isIP(host) !== 0 && !isPublicAddress(host))
    return 'must not point to a private, loopback, link-local or reserved address';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'must not point to this machine';
  return null;
}
