/**
 * Which addresses outbound requests made for users (webhooks, Slack) may reach: public unicast
 * addresses only, unless the operator allow-lists a host name, address or range. IPv6 forms that carry
 * an IPv4 address (mapped, NAT64, 6to4) are judged by that IPv4 address, so `::ffff:127.0.0.1` is
 * loopback. The ranges are IANA's special-purpose registries; the cloud metadata endpoints
 * (169.254.169.254, fd00:ec2::254, 100.100.100.200, 192.0.0.192) all lie inside them.
 */
import { BlockList, isIP } from 'node:net';

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

/** `[::1]` (a URL's host) → `::1`; a zone index (`fe80::1%eth0`) is dropped. */
export const bareHost = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');

/** The eight 16-bit groups of a valid IPv6 address, a trailing dotted quad included. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const quad: number[] = [];
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number];
    quad.push((a << 8) | b, (c << 8) | d);
    text = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part ? part.split(':').map((group) => Number.parseInt(group, 16)) : []);
  const front = parse(head);
  const back = [...(tail === undefined ? [] : parse(tail)), ...quad];
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

const quadOf = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/** The IPv4 address an IPv6 address stands for or embeds (mapped, NAT64, 6to4), if any. */
function embeddedIPv4(address: string): string | null {
  const g = ipv6Groups(address);
  const zeros = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return quadOf(g[6]!, g[7]!); // ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return quadOf(g[6]!, g[7]!); // 64:ff9b::a.b.c.d
  if (g[0] === 0x2002) return quadOf(g[1]!, g[2]!); // 2002:aabb:ccdd::
  return null;
}

/** An address as the checks see it: the IPv4 address of an IPv4-mapped IPv6 one, without a zone. */
export function canonicalAddress(address: string): string {
  const bare = bareHost(address);
  if (isIP(bare) !== 6) return bare;
  const g = ipv6Groups(bare);
  return g.slice(0, 5).every((group) => group === 0) && g[5] === 0xffff ? quadOf(g[6]!, g[7]!) : bare;
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

function cidrOf(entry: string): { network: string; prefix: number; family: 4 | 6 } | null {
  const [network = '', prefixText, ...rest] = entry.split('/');
  const family = isIP(network);
  if ((family !== 4 && family !== 6) || rest.length > 0) return null;
  if (prefixText === undefined) return { network, prefix: family === 4 ? 32 : 128, family };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= (family === 4 ? 32 : 128) ? { network, prefix, family } : null;
}

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
  const ranges = new BlockList();
  const names = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    const cidr = cidrOf(entry);
    if (cidr)
      ranges.addSubnet(canonicalAddress(cidr.network), cidr.prefix, cidr.family === 4 ? 'ipv4' : 'ipv6');
    else if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
    else if (entry) names.add(entry);
  }
  return {
    allowsHost(hostname) {
      const name = hostname.toLowerCase().replace(/\.$/, '');
      return names.has(name) || suffixes.some((suffix) => name.endsWith(suffix));
    },
    allowsAddress(address) {
      const canonical = canonicalAddress(address);
      const family = isIP(canonical);
      return family !== 0 && ranges.check(canonical, family === 4 ? 'ipv4' : 'ipv6');
    },
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
