/**
 * Who is calling. The socket's peer, unless that peer is a proxy the operator trusts (TRUSTED_PROXIES:
 * the stack's gateway, Knative's queue-proxy and ingress): then X-Forwarded-For is read from the right,
 * past every trusted hop, and the first address no trusted proxy vouches for is the client. Anything
 * further left was written by the client itself and means nothing.
 */
import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { canonicalAddress } from './ip-addresses';

/**
 * The client's address; null without a Node socket (requests made in-process). `isTrusted` tells the
 * proxies of TRUSTED_PROXIES (`addressRanges(config.TRUSTED_PROXIES)`).
 */
export function clientAddress(c: Context, isTrusted: (address: string) => boolean): string | null {
  const env = c.env as { incoming?: unknown; server?: { incoming?: unknown } } | undefined;
  if (!env?.incoming && !env?.server?.incoming) return null;
  const peer = getConnInfo(c).remote.address;
  if (!peer) return null;
  let client = canonicalAddress(peer);
  if (!isTrusted(client)) return client;
  const hops = (c.req.header('X-Forwarded-For') ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  for (const hop of hops.reverse()) {
    // A hop that is not an address ends the chain: nothing left of it can be believed either.
    if (isIP(canonicalAddress(hop)) === 0) break;
    client = canonicalAddress(hop);
    if (!isTrusted(client)) break;
  }
  return client;
}
