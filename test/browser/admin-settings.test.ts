/**
 * The admin System settings page in headless Chromium: an administrator reaches it from the user menu,
 * raises the minimum password length — and registration refuses a shorter password at once — then
 * resets to the configuration; a bad value is refused with the server's words; the page fits a phone.
 * Starts the embedded server with the built app (web/dist).
 */
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, registerAccount, signInContext, type TestBrowser } from '../support/browser';

describe('admin System settings page in a real browser', { timeout: 180_000 }, () => {
  let testBrowser: TestBrowser;
  let baseUrl = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const admin = {
    username: `boss_${randomBytes(4).toString('hex')}`,
    password: `pw-${randomBytes(8).toString('hex')}`,
  };
  const register = async (password: string) => {
    const name = `n_${randomBytes(4).toString('hex')}`;
    const response = await context.request.post(`${baseUrl}/api/v1/auth/register`, {
      data: { username: name, email: `${name}@example.com`, password },
    });
    return response.status();
  };

  beforeAll(async () => {
    testBrowser = await openTestBrowser();
    ({ baseUrl, browser } = testBrowser);
    if (!testBrowser.platform) throw new Error('this test needs the embedded server it starts');
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const adminId = await registerAccount(context.request, baseUrl, admin.username, admin.password);
    await testBrowser.platform.store.users.update(adminId, { role: 'admin' });
    await signInContext(context, baseUrl, admin.username, admin.password);
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await testBrowser?.close();
  });

  it('raises the minimum password length, which registration applies at once, then resets it', async () => {
    await page.goto(`${baseUrl}/editor`);
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="menu-admin-settings"]');
    await page.waitForURL(/\/admin\/settings$/);
    await page.fill('[data-testid="setting-password_min_length"]', '20');
    await page.click('[data-testid="settings-save"]');
    await page.getByText('Settings saved; in force within seconds').waitFor();
    expect(await register('only-sixteen-chr')).toBe(422);

    await page.click('[data-testid="settings-reset"]');
    await page.getByText('Settings reset to the configuration').waitFor();
    expect(await page.inputValue('[data-testid="setting-password_min_length"]')).toBe('8');
    expect(await register('only-sixteen-chr')).toBe(200);
  });

  it("shows the server's reason for a value it refuses", async () => {
    await page.fill('[data-testid="setting-memory_limit"]', 'lots');
    await page.click('[data-testid="settings-save"]');
    await page.getByText(/memory_limit: must be a size/).waitFor();
  });

  it('fits a phone-sized screen', async () => {
    const phone = await browser.newContext({
      viewport: { width: 360, height: 740 },
      isMobile: true,
      hasTouch: true,
    });
    await signInContext(phone, baseUrl, admin.username, admin.password);
    const small = await phone.newPage();
    await small.goto(`${baseUrl}/admin/settings`);
    await small.locator('[data-testid="settings-save"]').waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, '/admin/settings is wider than the screen').toBeLessThanOrEqual(0);
    await phone.close();
  });
});
