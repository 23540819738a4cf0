/**
 * First-start accounts. An admin only when the operator names one (ADMIN_USERNAME + ADMIN_PASSWORD) —
 * there is no built-in default password. On a laptop, a `demo` user with a random password whose
 * credentials are kept in the data directory so the server can show them at every start.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newUserRecord, type UserRole } from '../domain/user';
import type { Platform } from '../platform/platform';
import { ConflictError } from '../store/ports';
import { hashPassword, verifyPassword } from './passwords';

export const DEMO_USERNAME = 'demo';
export const DEMO_CREDENTIALS_FILE = 'demo-credentials.json';

export interface Credentials {
  username: string;
  password: string;
}

export interface BootstrapResult {
  /** The admin's username when this start created it. */
  adminCreated: string | null;
  /** The demo account's working credentials, or null when demo is off or they are not known. */
  demo: Credentials | null;
}

/** Creates the user unless one with that name exists; returns whether it did. */
async function createIfMissing(
  platform: Platform,
  fields: { username: string; email: string; password: string; role: UserRole },
): Promise<boolean> {
  if (await platform.store.users.findByUsername(fields.username)) return false;
  const user = newUserRecord(
    {
      username: fields.username,
      email: fields.email,
      role: fields.role,
      is_active: true,
      is_superuser: fields.role === 'admin',
      password_hash: await hashPassword(fields.password),
    },
    platform.now().toISOString(),
  );
  try {
    await platform.store.users.create(user);
    return true;
  } catch (error) {
    // Another process starting at the same moment created it first.
    if (error instanceof ConflictError) return false;
    throw error;
  }
}

async function readSavedCredentials(path: string): Promise<Credentials | null> {
  try {
    const saved = JSON.parse(await readFile(path, 'utf8')) as Partial<Credentials>;
    return typeof saved.username === 'string' && typeof saved.password === 'string'
      ? { username: saved.username, password: saved.password }
      : null;
  } catch {
    return null;
  }
}

export async function ensureBootstrapAccounts(
  platform: Platform,
  options: { demo: boolean; dataDir: string },
): Promise<BootstrapResult> {
  const { ADMIN_USERNAME, ADMIN_PASSWORD, ADMIN_EMAIL } = platform.config;
  let adminCreated: string | null = null;
  if (ADMIN_USERNAME && ADMIN_PASSWORD) {
    const email = ADMIN_EMAIL ?? `${ADMIN_USERNAME}@localhost`;
    const created = await createIfMissing(platform, {
      username: ADMIN_USERNAME,
      email,
      password: ADMIN_PASSWORD,
      role: 'admin',
    });
    if (created) adminCreated = ADMIN_USERNAME;
  }
  if (!options.demo) return { adminCreated, demo: null };

  const path = join(options.dataDir, DEMO_CREDENTIALS_FILE);
  const password = randomBytes(12).toString('base64url');
  const email = `${DEMO_USERNAME}@localhost`;
  if (await createIfMissing(platform, { username: DEMO_USERNAME, email, password, role: 'user' })) {
    const credentials = { username: DEMO_USERNAME, password };
    await mkdir(options.dataDir, { recursive: true });
    await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    // `mode` applies only to a new file; a leftover from an earlier data set keeps its own.
    await chmod(path, 0o600);
    return { adminCreated, demo: credentials };
  }

  // Show saved credentials only while they still work (an admin may have reset the password since).
  const saved = await readSavedCredentials(path);
  const demoUser = await platform.store.users.findByUsername(DEMO_USERNAME);
  if (
    saved &&
    demoUser &&
    saved.username === DEMO_USERNAME &&
    (await verifyPassword(saved.password, demoUser.password_hash))
  ) {
    return { adminCreated, demo: saved };
  }
  platform.log.warn('demo account exists but its saved credentials are missing or out of date', { path });
  return { adminCreated, demo: null };
}
