import { afterEach, describe, expect, it } from 'vitest';
import {
  startWebhookReceiver,
  type WebhookReceiver,
  type WebhookScript,
} from '../../test/support/webhook-receiver';
import { postGuarded, type Resolver, retryAfterMs } from './outbound';
import { allowList } from './outbound-guard';

const receivers: WebhookReceiver[] = [];

/** A receiver on 127.0.0.1 answering every request with `answer` (null: never), or as a script says. */
async function receiver(answer: ReturnType<WebhookScript> | WebhookScript) {
  const started = await startWebhookReceiver(typeof answer === 'function' ? answer : () => answer);
  receivers.push(started);
  const origin = `http://127.0.0.1:${started.port}`;
  return {
    port: started.port,
    url: origin,
    received: started.hits,
    close: () => started.close(),
  };
}

afterEach(async () => {
  for (const started of receivers.splice(0)) await started.close();
});

const loopbackAllowed = allowList(['127.0.0.1']);
const nothingAllowed = allowList([]);
const post = (
  url: string,
  options: { allow?: ReturnType<typeof allowList>; resolve?: Resolver; timeoutMs?: number } = {},
) =>
  postGuarded({
    url,
    body: '{"n":1}',
    headers: { 'Content-Type': 'application/json' },
    timeoutMs: options.timeoutMs ?? 2000,
    allow: options.allow ?? loopbackAllowed,
    resolve: options.resolve,
  });
const answers = (status: number, headers: Record<string, string> = {}) => ({ status, headers });
/** A resolver that knows only the given names. */
const resolverOf =
  (names: Record<string, string[]>): Resolver =>
  async (hostname) => {
    const addresses = names[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('postGuarded', () => {
  it('POSTs the body to an allow-listed loopback receiver and reports its status', async () => {
    const target = await receiver(answers(204));
    const result = await post(`${target.url}/hook?x=1`);
    expect(result).toMatchObject({ status: 204, error: null, refused: false });
    expect(result.durationMs).toBeGreaterThan(0);
    expect(target.received).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/hook?x=1',
        headers: expect.objectContaining({ host: `127.0.0.1:${target.port}` }),
        body: '{"n":1}',
      }),
    ]);
  });

  it('refuses loopback, private and metadata addresses that are not allow-listed, sending nothing', async () => {
    const target = await receiver(answers(200));
    for (const url of [`http://127.0.0.1:${target.port}/`, `https://127.0.0.1:${target.port}/`]) {
      const result = await post(url, { allow: nothingAllowed });
      expect(result).toMatchObject({ status: null, refused: true });
    }
    expect((await post('https://169.254.169.254/latest/meta-data', { allow: nothingAllowed })).error).toMatch(
      /refused: .*private, loopback/,
    );
    expect(
      (await post(`https://[::ffff:127.0.0.1]:${target.port}/`, { allow: nothingAllowed })).refused,
    ).toBe(true);
    expect(target.received).toEqual([]);
  });

  it('refuses a name that resolves to a private address, or to any private one among public ones', async () => {
    const resolve = resolverOf({
      'internal.example': ['10.0.0.5'],
      'mixed.example': ['93.184.216.34', '127.0.0.1'],
      'mapped.example': ['::ffff:169.254.169.254'],
      'v6.example': ['fd00:ec2::254'],
    });
    for (const host of ['internal.example', 'mixed.example', 'mapped.example', 'v6.example']) {
      const result = await post(`https://${host}/hook`, { allow: nothingAllowed, resolve });
      expect(result.refused, host).toBe(true);
      expect(result.error).toMatch(new RegExp(`${host} resolves to`));
    }
    // The system resolver: localhost is refused by name before any lookup.
    expect((await post('https://localhost/', { allow: nothingAllowed })).refused).toBe(true);
  });

  it('connects to exactly the addresses it checked, so the name is never resolved again', async () => {
    const target = await receiver(answers(200));
    // "receiver.test" exists only in this resolver: the socket can reach it only through the pinned answer.
    const resolve = resolverOf({ 'receiver.test': ['127.0.0.1'] });
    const result = await post(`http://receiver.test:${target.port}/pinned`, {
      allow: allowList(['receiver.test']),
      resolve,
    });
    expect(result).toMatchObject({ status: 200, error: null });
    expect(target.received[0]).toMatchObject({
      url: '/pinned',
      headers: { host: `receiver.test:${target.port}` },
    });
    // Allowed by address: the name is resolved and its address is on the list.
    const byAddress = await post(`http://receiver.test:${target.port}/by-address`, {
      allow: allowList(['127.0.0.1', 'receiver.test']),
      resolve,
    });
    expect(byAddress.status).toBe(200);
  });

  it('follows a 307 or 308 to a permitted target with the same method and body', async () => {
    const final = await receiver(answers(202));
    const hop = await receiver(answers(308, { Location: `${final.url}/final` }));
    const first = await receiver(answers(307, { Location: `${hop.url}/hop` }));
    const result = await post(`${first.url}/start`);
    expect(result).toMatchObject({ status: 202, error: null });
    expect(final.received).toEqual([
      expect.objectContaining({ method: 'POST', url: '/final', body: '{"n":1}' }),
    ]);
  });

  it('refuses a redirect to a private or metadata address and does not follow it', async () => {
    const inside = await receiver(answers(200));
    for (const location of [
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${inside.port}/`,
      `http://127.0.0.2:${inside.port}/`,
    ]) {
      const bouncer = await receiver(answers(307, { Location: location }));
      const result = await post(`${bouncer.url}/`);
      expect(result.refused, location).toBe(true);
      expect(result.status).toBeNull();
      expect(bouncer.received).toHaveLength(1);
    }
    expect(inside.received).toEqual([]);
  });

  it('reports redirects that would turn the POST into a GET, and endless ones, as permanent', async () => {
    const final = await receiver(answers(200));
    const found = await receiver(answers(302, { Location: final.url }));
    expect(await post(found.url)).toMatchObject({
      status: 302,
      permanent: true,
      error: expect.stringMatching(/not followed/),
    });
    const loop: { url?: string } = {};
    const looping = await receiver(() => ({ status: 307, headers: { Location: loop.url! } }));
    loop.url = looping.url;
    expect(await post(looping.url)).toMatchObject({
      status: 307,
      permanent: true,
      error: 'more than 3 redirects',
    });
    expect(looping.received).toHaveLength(4);
    expect(final.received).toEqual([]);
  });

  it('reports failures as retryable: error statuses with Retry-After, refused connections, timeouts', async () => {
    const busy = await receiver(answers(429, { 'Retry-After': '7' }));
    expect(await post(busy.url)).toMatchObject({
      status: 429,
      error: 'HTTP 429',
      refused: false,
      retryAfterMs: 7000,
    });
    const closed = await receiver(answers(200));
    await closed.close();
    expect(await post(closed.url)).toMatchObject({
      status: null,
      refused: false,
      error: expect.stringMatching(/ECONNREFUSED/),
    });
    const silent = await receiver(null);
    const slow = await post(silent.url, { timeoutMs: 200 });
    expect(slow).toMatchObject({ status: null, refused: false, error: 'no answer within 200 ms' });
    expect(slow.durationMs).toBeGreaterThanOrEqual(190);
    expect(slow.durationMs).toBeLessThan(1500);
  });

  it('reads Retry-After as seconds or as a date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(undefined, now)).toBeNull();
  });
});
