/**
 * Headless Chromium against the web app: the server at INTEGR8S_BASE_URL when set, otherwise the
 * embedded server started here with the built app (web/dist).
 */
import { existsSync } from 'node:fs';
import { type APIRequestContext, type Browser, type BrowserContext, chromium } from 'playwright-core';
import type { TestPlatform } from './platform';
import { type RunningServer, startTestServer } from './server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WEB_ROOT = 'web/dist';

export interface TestBrowser {
  baseUrl: string;
  browser: Browser;
  /** The started server's platform (for arranging what the browser cannot, an admin say); none outside. */
  platform?: TestPlatform;
  close(): Promise<void>;
}

export async function openTestBrowser(): Promise<TestBrowser> {
  let baseUrl = process.env.INTEGR8S_BASE_URL?.replace(/\/+$/, '') ?? '';
  let server: RunningServer | undefined;
  if (!baseUrl) {
    if (!existsSync(`${WEB_ROOT}/index.html`))
      throw new Error('web/dist is missing: run `npm run build:web` first');
    server = await startTestServer({}, WEB_ROOT);
    baseUrl = server.baseUrl;
  }
  if (!existsSync(CHROMIUM)) {
    await server?.close();
    throw new Error(`No Chromium at ${CHROMIUM}; install it with: apt-get install -y chromium`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  return {
    baseUrl,
    browser,
    platform: server?.platform,
    async close() {
      await browser.close();
      await server?.close();
    },
  };
}

/** Registers an account through the API, as the sign-up form would; returns its user id. */
export async function registerAccount(
  request: APIRequestContext,
  baseUrl: string,
  username: string,
  password: string,
): Promise<string> {
  const response = await request.post(`${baseUrl}/api/v1/auth/register`, {
    data: { username, email: `${username}@example.com`, password },
  });
  if (response.status() !== 200) throw new Error(`register ${username}: HTTP ${response.status()}`);
  return ((await response.json()) as { user_id: string }).user_id;
}

/** Signs in through the API on the context's cookie jar, as the login form would. */
export async function signInContext(
  context: BrowserContext,
  baseUrl: string,
  username: string,
  password: string,
): Promise<void> {
  const response = await context.request.post(`${baseUrl}/api/v1/auth/login`, {
    form: { username, password },
  });
  if (response.status() !== 200) throw new Error(`sign in as ${username}: HTTP ${response.status()}`);
}
