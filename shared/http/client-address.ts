/**
 * Who is calling. The socket's peer, unless that peer is a proxy the operator trusts (TRUSTED_PROXIES:
 * the stack's gateway, Knative's queue-proxy and ingress): then X-Forwarded-For is read from the right,
 * past every trusted hop, and the first address no trusted proxy vouches for is the client. Anything
 * further left was written by the client itself and means nothing.
 */

import { BlockList, isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/** Addresses (`10.0.0.7`, `::1`) and CIDR blocks (`10.0.0.0/8`, `fd00::/8`), as TRUSTED_PROXIES lists them. */
export function trustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address!, family);
    else list.addSubnet(address!, Number(prefix), family);
  }
  return list;
}

const unmapped = (address: string): string =>
  address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;

const isTrusted = (trusted: BlockList, address: string): boolean => {
  const plain = unmapped(address);
  const version = isIP(plain);
  return version !== 0 && trusted.check(plain, version === 6 ? 'ipv6' : 'ipv4');
};

/** The client's address; null without a Node socket (requests made in-process). */
export function clientAddress(c: Context, trusted: BlockList): string | null {
  const env = c.env as { incoming?: unknown; server?: { incoming?: unknown } } | undefined;
  if (!env?.incoming && !env?.server?.incoming) return null;
  const peer = getConnInfo(c).remote.address;
  if (!peer) return null;
  let client = unmapped(peer);
  if (!isTrusted(trusted, client)) return client;
  const hops = (c.req.header('X-Forwarded-For') ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  for (const hop of hops.reverse()) {
    // A hop that is not an address ends the chain: nothing left of it can be believed either.
    if (isIP(unmapped(hop)) === 0) break;
    client = unmapped(hop);
    if (!isTrusted(trusted, client)) break;
  }
  return client;
}
