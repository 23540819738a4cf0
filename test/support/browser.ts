/**
 * Headless Chromium against the web app: the server at INTEGR8S_BASE_URL when set, otherwise the
 * embedded server started here with the built app (web/dist).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { type RunningServer, startTestServer } from './server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WEB_ROOT = 'web/dist';

export interface TestBrowser {
  baseUrl: string;
  browser: Browser;
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
    async close() {
      await browser.close();
      await server?.close();
    },
  };
}
