/**
 * The API keys page in headless Chromium: a user reaches it from the user menu, creates a read-only
 * key whose secret is shown once, uses that secret as a Bearer token from outside the browser, and
 * revokes the key after confirming, after which the secret no longer works; the page fits a phone.
 * Starts the embedded server with the built app (web/dist), or uses the server at INTEGR8S_BASE_URL.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, registerAccount, signInContext, type TestBrowser } from '../support/browser';

describe('API keys page in a real browser', { timeout: 180_000 }, () => {
  let testBrowser: TestBrowser | undefined;
  let baseUrl = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const suffix = randomBytes(4).toString('hex');
  const account = { username: `keys_${suffix}`, password: `pw-${randomBytes(8).toString('hex')}` };
  let secret = '';

  beforeAll(async () => {
    testBrowser = await openTestBrowser();
    ({ baseUrl, browser } = testBrowser);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await registerAccount(context.request, baseUrl, account.username, account.password);
    await signInContext(context, baseUrl, account.username, account.password);
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await testBrowser?.close();
  });

  /** A request from outside the browser: no cookies, only the key. */
  const withKey = async (key: string, path: string) => {
    const outside = await browser.newContext();
    const response = await outside.request.get(`${baseUrl}/api/v1${path}`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    const status = response.status();
    await outside.close();
    return status;
  };

  it('creates a read-only key and shows its secret once', async () => {
    await page.goto(`${baseUrl}/editor`);
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="menu-api-keys"]');
    await page.waitForURL(/\/api-keys$/);
    await page.locator('[data-testid="api-keys-empty"]').waitFor();

    await page.fill('[data-testid="api-key-name"]', 'nightly report');
    await page.uncheck('[data-testid="api-key-scope-executions:write"]');
    await page.click('[data-testid="api-key-create"]');
    secret = (await page.locator('[data-testid="api-key-secret"]').textContent()) ?? '';
    expect(secret).toMatch(/^i8c_/);
    const row = page.locator('[data-testid="api-key-row"]', { hasText: 'nightly report' });
    await row.waitFor();
    expect(await row.textContent()).toContain('executions:read');
    expect(await row.textContent()).not.toContain(secret);

    // The secret works from outside the browser, within its scope only.
    expect(await withKey(secret, '/user/executions')).toBe(200);
    expect(await withKey(secret, '/user/settings/')).toBe(403);

    // Leaving the page forgets the secret: it is never shown again.
    await page.reload();
    await page.locator('[data-testid="api-key-row"]').first().waitFor();
    expect(await page.locator('[data-testid="api-key-secret"]').count()).toBe(0);
  });

  it('revokes a key only after confirming, and the secret stops working', async () => {
    await page.click('[data-testid="api-key-revoke"]');
    await page.getByText('Anything using it stops working at once.').waitFor();
    await page.click('[data-testid="api-key-revoke-confirm"]');
    await page.getByText('Revoked nightly report').waitFor();
    await page.locator('[data-testid="api-keys-empty"]').waitFor();
    expect(await withKey(secret, '/user/executions')).toBe(401);
  });

  it('fits a phone-sized screen', async () => {
    const phone = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await signInContext(phone, baseUrl, account.username, account.password);
    const small = await phone.newPage();
    await small.goto(`${baseUrl}/api-keys`);
    await small.fill('[data-testid="api-key-name"]', 'phone key');
    await small.click('[data-testid="api-key-create"]');
    await small.locator('[data-testid="api-key-secret"]').waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, '/api-keys is wider than the screen').toBeLessThanOrEqual(0);
    expect(await small.locator('[data-testid="api-key-copy"]').isVisible()).toBe(true);
    await phone.close();
  });
});
