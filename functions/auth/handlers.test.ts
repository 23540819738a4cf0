import { scryptSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../shared/auth/passwords';
import { hashSessionToken } from '../../shared/auth/sessions';
import type { HttpError } from '../../shared/http/errors';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { login, logout, register } from './handlers';

let platform: TestPlatform;
const client = { ipAddress: '203.0.113.9', userAgent: 'test-agent' };

beforeEach(async () => {
  platform = await createTestPlatform();
});
afterEach(async () => {
  await platform.close();
});

async function eventsFor(aggregateId: string) {
  return (await platform.store.events.listByAggregate(aggregateId)).map((stored) => stored.event);
}

describe('auth handlers', () => {
  it('records who registered, logged in and out, with the client they came from', async () => {
    const user = await register(
      platform,
      { username: 'ada', email: 'ada@example.com', password: 'long enough' },
      client,
    );
    const { session } = await login(platform, { username: 'ada', password: 'long enough' }, client);
    await logout(platform, session.token, client);
    const events = await eventsFor(user.user_id);
    expect(events.map((e) => e.event_type)).toEqual(['user_registered', 'user_logged_in', 'user_logged_out']);
    for (const event of events) {
      expect(event).toMatchObject({
        username: 'ada',
        user_id: user.user_id,
        ip_address: '203.0.113.9',
        user_agent: 'test-agent',
      });
      expect(event.metadata.user_id).toBe(user.user_id);
    }
  });

  it('records failed logins with the reason, without revealing it to the caller', async () => {
    const user = await register(platform, {
      username: 'ada',
      email: 'ada@example.com',
      password: 'long enough',
    });
    const failure = await login(platform, { username: 'ada', password: 'nope' }).catch((e: HttpError) => e);
    expect(failure).toMatchObject({ status: 401, detail: 'Invalid username or password' });
    const [event] = (await eventsFor(user.user_id)).filter((e) => e.event_type === 'auth_failed');
    expect(event).toMatchObject({ username: 'ada', reason: 'invalid_password' });
  });

  it('upgrades a password hash made with older parameters at the next login', async () => {
    const user = await register(platform, {
      username: 'ada',
      email: 'ada@example.com',
      password: 'long enough',
    });
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('long enough', salt, 32, { N: 2 ** 12, r: 8, p: 1 });
    const older = `$scrypt$ln=12,r=8,p=1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    await platform.store.users.update(user.user_id, { password_hash: older });

    await login(platform, { username: 'ada', password: 'long enough' });
    const upgraded = (await platform.store.users.findById(user.user_id))!.password_hash;
    expect(upgraded).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    expect(await verifyPassword('long enough', upgraded)).toBe(true);
  });

  it('ends only the session it is given', async () => {
    await register(platform, { username: 'ada', email: 'ada@example.com', password: 'long enough' });
    const first = await login(platform, { username: 'ada', password: 'long enough' });
    const second = await login(platform, { username: 'ada', password: 'long enough' });
    await logout(platform, first.session.token);
    expect(
      await platform.store.sessions.find(hashSessionToken(first.session.token), platform.now()),
    ).toBeNull();
    expect(
      await platform.store.sessions.find(hashSessionToken(second.session.token), platform.now()),
    ).not.toBeNull();
  });
});
