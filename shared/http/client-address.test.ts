import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress } from './client-address';
import { addressRanges } from './ip-addresses';

/** One server per trust list, answering with the address it believes; requests come from 127.0.0.1. */
const servers: ServerType[] = [];
async function whoAmI(trusted: string[]): Promise<(forwardedFor?: string) => Promise<string>> {
  const list = addressRanges(trusted);
  const app = new Hono().get('/', (c) => c.text(clientAddress(c, list) ?? 'none'));
  const port = await new Promise<number>((resolve) => {
    servers.push(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port)));
  });
  return async (forwardedFor) => {
    const headers: Record<string, string> = forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {};
    return (await fetch(`http://127.0.0.1:${port}/`, { headers })).text();
  };
}

describe('clientAddress', () => {
  let untrusting: Awaited<ReturnType<typeof whoAmI>>;
  let behindGateway: typeof untrusting;
  let behindIngress: typeof untrusting;
  beforeAll(async () => {
    untrusting = await whoAmI([]);
    behindGateway = await whoAmI(['127.0.0.1', '::1']);
    behindIngress = await whoAmI(['127.0.0.0/8', '10.0.0.0/8', 'fd00::/8']);
  });
  afterAll(() => {
    for (const server of servers) server.close();
  });

  it('is the socket peer when no proxy is trusted, whatever the client writes', async () => {
    expect(await untrusting()).toBe('127.0.0.1');
    expect(await untrusting('203.0.113.9')).toBe('127.0.0.1');
  });

  it('believes a trusted peer about the hop before it', async () => {
    expect(await behindGateway('203.0.113.9')).toBe('203.0.113.9');
    expect(await behindGateway()).toBe('127.0.0.1');
  });

  it('ignores what the client wrote itself: the nearest untrusted hop is the client', async () => {
    expect(await behindGateway('1.2.3.4, 203.0.113.9')).toBe('203.0.113.9');
    expect(await behindIngress('1.2.3.4, 203.0.113.9, 10.4.0.12, 10.4.1.7')).toBe('203.0.113.9');
    expect(await behindIngress('2001:db8::1, fd00::3')).toBe('2001:db8::1');
    expect(await behindIngress('::ffff:198.51.100.4')).toBe('198.51.100.4');
    expect(await behindIngress('::ffff:c633:6404')).toBe('198.51.100.4');
  });

  it('stops at a hop that is not an address', async () => {
    expect(await behindGateway('203.0.113.9, not-an-address')).toBe('127.0.0.1');
    expect(await behindIngress('203.0.113.9, unknown, 10.0.0.5')).toBe('10.0.0.5');
  });

  it('takes the leftmost hop when every hop is trusted', async () => {
    expect(await behindIngress('10.0.0.1, 10.0.0.2')).toBe('10.0.0.1');
  });
});
