/** A fresh account in a browser context of its own, signed in through the API as the login form would. */
import type { BrowserContext, Page } from 'playwright-core';
import type { TestBrowser } from './browser';

export interface BrowserAccount {
  username: string;
  password: string;
  userId: string;
  context: BrowserContext;
  page: Page;
  /** Signs the account in on another context (a phone-sized one, say). */
  signIn(target: BrowserContext): Promise<void>;
}

export async function openAccount(
  testBrowser: TestBrowser,
  credentials: { username: string; password: string },
  viewport = { width: 1280, height: 900 },
): Promise<BrowserAccount> {
  const { baseUrl, browser } = testBrowser;
  const { username, password } = credentials;
  const context = await browser.newContext({ viewport });
  const registered = await context.request.post(`${baseUrl}/api/v1/auth/register`, {
    data: { username, email: `${username}@example.com`, password },
  });
  if (registered.status() !== 200) throw new Error(`register answered ${registered.status()}`);
  const { user_id: userId } = (await registered.json()) as { user_id: string };
  const signIn = async (target: BrowserContext) => {
    const login = await target.request.post(`${baseUrl}/api/v1/auth/login`, { form: { username, password } });
    if (login.status() !== 200) throw new Error(`login answered ${login.status()}`);
  };
  await signIn(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { username, password, userId, context, page, signIn };
}
