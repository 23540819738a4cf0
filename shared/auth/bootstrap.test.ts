import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { DEMO_CREDENTIALS_FILE, ensureBootstrapAccounts } from './bootstrap';
import { verifyPassword } from './passwords';

let platform: TestPlatform;
let dataDir: string;

beforeEach(async () => {
  platform = await createTestPlatform();
  platform.config = {
    ...platform.config,
    ADMIN_USERNAME: undefined,
    ADMIN_PASSWORD: undefined,
    ADMIN_EMAIL: undefined,
  };
  dataDir = await mkdtemp(join(tmpdir(), 'bootstrap-'));
});
afterEach(async () => {
  await platform.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('ensureBootstrapAccounts', () => {
  it('creates no account at all without an admin configured and without demo', async () => {
    expect(await ensureBootstrapAccounts(platform, { demo: false, dataDir })).toEqual({
      adminCreated: null,
      demo: null,
    });
    expect(await platform.store.users.count()).toBe(0);
  });

  it('creates the configured admin once, with the configured password', async () => {
    platform.config = { ...platform.config, ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'a strong secret' };
    expect((await ensureBootstrapAccounts(platform, { demo: false, dataDir })).adminCreated).toBe('root');
    const admin = await platform.store.users.findByUsername('root');
    expect(admin).toMatchObject({
      role: 'admin',
      is_superuser: true,
      is_active: true,
      email: 'root@localhost',
    });
    expect(await verifyPassword('a strong secret', admin!.password_hash)).toBe(true);

    // A later start with another password leaves the existing admin alone.
    platform.config = { ...platform.config, ADMIN_PASSWORD: 'changed secret' };
    expect((await ensureBootstrapAccounts(platform, { demo: false, dataDir })).adminCreated).toBeNull();
    const again = await platform.store.users.findByUsername('root');
    expect(again?.password_hash).toBe(admin?.password_hash);
  });

  it('uses ADMIN_EMAIL when set', async () => {
    platform.config = {
      ...platform.config,
      ADMIN_USERNAME: 'root',
      ADMIN_PASSWORD: 'a strong secret',
      ADMIN_EMAIL: 'ops@example.com',
    };
    await ensureBootstrapAccounts(platform, { demo: false, dataDir });
    expect((await platform.store.users.findByUsername('root'))?.email).toBe('ops@example.com');
  });

  it('creates a demo user with a random password kept in a private file, and returns it at every start', async () => {
    const first = await ensureBootstrapAccounts(platform, { demo: true, dataDir });
    expect(first.demo?.username).toBe('demo');
    expect(first.demo?.password.length).toBeGreaterThanOrEqual(16);
    const demo = await platform.store.users.findByUsername('demo');
    expect(demo?.role).toBe('user');
    expect(await verifyPassword(first.demo!.password, demo!.password_hash)).toBe(true);

    const path = join(dataDir, DEMO_CREDENTIALS_FILE);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(first.demo);

    const second = await ensureBootstrapAccounts(platform, { demo: true, dataDir });
    expect(second.demo).toEqual(first.demo);
    expect(await platform.store.users.count()).toBe(1);
  });

  it('gives each installation its own demo password', async () => {
    const first = await ensureBootstrapAccounts(platform, { demo: true, dataDir });
    const other = await createTestPlatform();
    try {
      const second = await ensureBootstrapAccounts(other, { demo: true, dataDir: join(dataDir, 'other') });
      expect(second.demo?.password).not.toBe(first.demo?.password);
    } finally {
      await other.close();
    }
  });

  it('does not show saved credentials that no longer work', async () => {
    await ensureBootstrapAccounts(platform, { demo: true, dataDir });
    await writeFile(
      join(dataDir, DEMO_CREDENTIALS_FILE),
      JSON.stringify({ username: 'demo', password: 'stale' }),
    );
    expect((await ensureBootstrapAccounts(platform, { demo: true, dataDir })).demo).toBeNull();
    await rm(join(dataDir, DEMO_CREDENTIALS_FILE));
    expect((await ensureBootstrapAccounts(platform, { demo: true, dataDir })).demo).toBeNull();
  });
});
