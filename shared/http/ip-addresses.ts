/**
 * IP addresses and ranges as operators write them (TRUSTED_PROXIES, NOTIFY_ALLOWED_HOSTS) and as peers
 * and resolvers report them. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is its IPv4 address.
 */
import { BlockList, isIP } from 'node:net';

/** `[::1]` (a URL's host) → `::1`; a zone index (`fe80::1%eth0`) is dropped. */
export const bareHost = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');

/** The eight 16-bit groups of a valid IPv6 address, a trailing dotted quad included. */
export function ipv6Groups(address: string): number[] {
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

export const quadOf = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/** An address as the checks see it: the IPv4 address of an IPv4-mapped IPv6 one, without a zone. */
export function canonicalAddress(address: string): string {
  const bare = bareHost(address);
  if (isIP(bare) !== 6) return bare;
  const g = ipv6Groups(bare);
  return g.slice(0, 5).every((group) => group === 0) && g[5] === 0xffff ? quadOf(g[6]!, g[7]!) : bare;
}

/** An address (`10.0.0.7`, `::1`) or CIDR block (`10.0.0.0/8`, `fd00::/8`); null for anything else. */
export function cidrOf(entry: string): { network: string; prefix: number; family: 4 | 6 } | null {
  const [network = '', prefixText, ...rest] = entry.split('/');
  const family = isIP(network);
  if ((family !== 4 && family !== 6) || rest.length > 0) return null;
  if (prefixText === undefined) return { network, prefix: family === 4 ? 32 : 128, family };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= (family === 4 ? 32 : 128) ? { network, prefix, family } : null;
}

/**
 * Whether an address lies in one of `entries` (addresses and CIDR blocks; anything else is skipped, so
 * validate entries first with `cidrOf`).
 */
export function addressRanges(entries: readonly string[]): (address: string) => boolean {
  const ranges = new BlockList();
  for (const entry of entries) {
    const cidr = cidrOf(entry);
    if (cidr)
      ranges.addSubnet(canonicalAddress(cidr.network), cidr.prefix, cidr.family === 4 ? 'ipv4' : 'ipv6');
  }
  return (address) => {
    const canonical = canonicalAddress(address);
    const family = isIP(canonical);
    return family !== 0 && ranges.check(canonical, family === 4 ? 'ipv4' : 'ipv6');
  };
}
