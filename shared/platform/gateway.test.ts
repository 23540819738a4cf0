import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config';
import type { FunctionDefinition } from './function';
import { createGateway } from './gateway';

const listen = (app: Hono, servers: ServerType[]) =>
  new Promise<string>((resolve) => {
    servers.push(
      serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
        resolve(`http://127.0.0.1:${info.port}`),
      ),
    );
  });

describe('gateway', () => {
  const servers: ServerType[] = [];
  let gateway: string;
  beforeAll(async () => {
    // A function that answers with what it was told about the client.
    const upstream = await listen(
      new Hono().get('/api/v1/echo', (c) =>
        c.json({ forwardedFor: c.req.header('X-Forwarded-For') ?? null }),
      ),
      servers,
    );
    const echo = { name: 'echo', routes: ['/api/v1/echo'], triggers: [] } as unknown as FunctionDefinition;
    gateway = await listen(
      createGateway(loadConfig({}), [echo], () => upstream),
      servers,
    );
  });
  afterAll(() => {
    for (const server of servers) server.close();
  });

  const forwardedFor = async (headers: Record<string, string> = {}) =>
    ((await (await fetch(`${gateway}/api/v1/echo`, { headers })).json()) as { forwardedFor: string | null })
      .forwardedFor;

  it('names the client to the function, after the hops it was already told of', async () => {
    expect(await forwardedFor()).toBe('127.0.0.1');
    expect(await forwardedFor({ 'X-Forwarded-For': '203.0.113.9' })).toBe('203.0.113.9, 127.0.0.1');
  });

  it('answers 404 for a path no function owns', async () => {
    expect((await fetch(`${gateway}/api/v1/nobody`)).status).toBe(404);
  });
});
