/**
 * POSTs to URLs users chose (webhooks, Slack) without letting them reach inside the platform. Before a
 * request the host is resolved and every address it resolves to is checked (outbound-guard.ts); the
 * connection then goes to exactly those addresses (a pinned lookup), so a DNS answer that changes
 * between the check and the connect (DNS rebinding) cannot slip a private address in. Redirects that
 * keep the method (307, 308) are followed a few times, each hop checked the same way; 301, 302 and 303
 * would turn the POST into a GET and are reported instead. node:http(s) rather than fetch because the
 * pinned lookup needs the socket options fetch does not expose without undici's Agent.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { bareHost } from './ip-addresses';
import { type AllowList, isPublicAddress, targetProblem } from './outbound-guard';

/** Resolves a host name to every address it has (tests substitute answers). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

export interface OutboundRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allow: AllowList;
  resolve?: Resolver;
  maxRedirects?: number;
}

export interface OutboundResult {
  /** HTTP status of the last answer; null when none came. */
  status: number | null;
  /** Why the request did not end in a 2xx; null when it did. */
  error: string | null;
  /** The guard refused the target: retrying the same URL cannot succeed. */
  refused: boolean;
  /** An answer that retrying will not change (a redirect that is not followed). */
  permanent: boolean;
  durationMs: number;
  /** The receiver's Retry-After, when it sent one. */
  retryAfterMs: number | null;
}

/** The target is not allowed: a private address, plain http, a redirect to one of those. */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
}

const DEFAULT_MAX_REDIRECTS = 3;
const FOLLOWED_REDIRECTS = new Set([307, 308]);

/** Every address `host` may be reached at, each one checked; an IP literal is its own answer. */
async function vettedAddresses(host: string, allow: AllowList, resolve: Resolver): Promise<LookupAddress[]> {
  const family = isIP(host);
  if (family !== 0) return [{ address: host, family }];
  const addresses = await resolve(host);
  if (addresses.length === 0) throw new Error(`${host} has no address`);
  if (allow.allowsHost(host)) return addresses;
  const refused = addresses.find(({ address }) => !allow.allowsAddress(address) && !isPublicAddress(address));
  if (refused)
    throw new OutboundRefused(
      `${host} resolves to ${refused.address}, a private, loopback, link-local or reserved address`,
    );
  return addresses;
}

/** A lookup that answers with the addresses already checked, so the socket connects to nothing else. */
function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
    if (usable.length === 0) {
      callback(Object.assign(new Error('no address of the requested family'), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
    else callback(null, usable[0]!.address, usable[0]!.family);
  };
}

interface Answer {
  status: number;
  location: string | undefined;
  retryAfter: string | undefined;
}

async function postOnce(url: URL, request: OutboundRequest, deadline: number): Promise<Answer> {
  const problem = targetProblem(url.href, request.allow);
  if (problem) throw new OutboundRefused(`${url.origin}: ${problem}`);
  const host = bareHost(url.hostname);
  const addresses = await vettedAddresses(host, request.allow, request.resolve ?? systemResolver);
  const remaining = deadline - performance.now();
  if (remaining <= 0) throw new Error(`no answer within ${request.timeoutMs} ms`);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<Answer>((resolve, reject) => {
    const outgoing = transport.request(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers: { ...request.headers, 'Content-Length': String(Buffer.byteLength(request.body)) },
        // A fresh connection per request: a pooled socket must never carry a request to another host.
        agent: false,
        lookup: pinnedLookup(addresses),
        ...(url.protocol === 'https:' && isIP(host) === 0 ? { servername: host } : {}),
      },
      (response: IncomingMessage) => {
        clearTimeout(timer);
        // Only the status matters; the body is not read, whatever its size.
        response.destroy();
        const retryAfter = response.headers['retry-after'];
        resolve({ status: response.statusCode ?? 0, location: response.headers.location, retryAfter });
      },
    );
    const timer = setTimeout(
      () => outgoing.destroy(new Error(`no answer within ${request.timeoutMs} ms`)),
      remaining,
    );
    outgoing.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    outgoing.end(request.body);
  });
}

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Sends `request.body` as a POST; never throws, the result says what happened. */
export async function postGuarded(request: OutboundRequest): Promise<OutboundResult> {
  const started = performance.now();
  const deadline = started + request.timeoutMs;
  const result = (fields: Partial<OutboundResult>): OutboundResult => ({
    status: null,
    error: null,
    refused: false,
    permanent: false,
    retryAfterMs: null,
    ...fields,
    durationMs: performance.now() - started,
  });
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return result({ error: 'the URL is not valid', refused: true });
  }
  const maxRedirects = request.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  try {
    for (let hop = 0; ; hop++) {
      const answer = await postOnce(url, request, deadline);
      if (answer.status >= 200 && answer.status < 300) return result({ status: answer.status });
      if (answer.status >= 300 && answer.status < 400) {
        if (!FOLLOWED_REDIRECTS.has(answer.status) || !answer.location)
          return result({
            status: answer.status,
            error: `HTTP ${answer.status} redirect not followed: a POST must not become a GET; use the final URL`,
            permanent: true,
          });
        if (hop >= maxRedirects)
          return result({
            status: answer.status,
            error: `more than ${maxRedirects} redirects`,
            permanent: true,
          });
        url = new URL(answer.location, url);
        continue;
      }
      return result({
        status: answer.status,
        error: `HTTP ${answer.status}`,
        retryAfterMs: retryAfterMs(answer.retryAfter),
      });
    }
  } catch (error) {
    const refused = error instanceof OutboundRefused;
    const message = error instanceof Error ? error.message : String(error);
    return result({ error: refused ? `refused: ${message}` : message, refused });
  }
}
