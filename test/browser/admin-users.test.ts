/**
 * The admin Users page in headless Chromium: an administrator reaches it from the navigation, creates a
 * user and finds it in the list by searching, changes its role, deletes it after confirming; a plain user
 * sees no link and is turned away; the page fits a phone. Starts the embedded server with the built app
 * (web/dist), or uses the server at INTEGR8S_BASE_URL when set (then INTEGR8S_ADMIN_USERNAME and
 * INTEGR8S_ADMIN_PASSWORD name an administrator of it).
 */
import { randomBytes } from 'node:crypto';
import type { APIRequestContext, Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, registerAccount, signInContext, type TestBrowser } from '../support/browser';

describe('admin Users page in a real browser', { timeout: 180_000 }, () => {
  let testBrowser: TestBrowser | undefined;
  let baseUrl = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const suffix = randomBytes(4).toString('hex');
  const admin = {
    username: process.env.INTEGR8S_ADMIN_USERNAME ?? `boss_${suffix}`,
    password: process.env.INTEGR8S_ADMIN_PASSWORD ?? `pw-${randomBytes(8).toString('hex')}`,
  };
  const newcomer = { username: `new_${suffix}`, password: `pw-${randomBytes(8).toString('hex')}` };
  const row = (name: string) => page.locator('[data-testid="user-row"]', { hasText: name });

  const register = (request: APIRequestContext, username: string, password: string) =>
    registerAccount(request, baseUrl, username, password);
  const signIn = (target: BrowserContext, username: string, password: string) =>
    signInContext(target, baseUrl, username, password);

  beforeAll(async () => {
    testBrowser = await openTestBrowser();
    ({ baseUrl, browser } = testBrowser);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { platform } = testBrowser;
    if (platform) {
      // Nobody can make themselves an admin through the app: the store does it, as an operator would.
      const userId = await register(context.request, admin.username, admin.password);
      await platform.store.users.update(userId, { role: 'admin' });
    } else if (!process.env.INTEGR8S_ADMIN_USERNAME) {
      throw new Error(
        'INTEGR8S_BASE_URL is set: INTEGR8S_ADMIN_USERNAME and INTEGR8S_ADMIN_PASSWORD must name an admin',
      );
    }
    await signIn(context, admin.username, admin.password);
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await testBrowser?.close();
  });

  it('creates a user, then finds it in the list by searching', async () => {
    await page.goto(`${baseUrl}/editor`);
    await page.click('[data-testid="nav-admin-users"]');
    await page.waitForURL(/\/admin\/users$/);
    await page.getByRole('heading', { name: 'Users' }).waitFor();

    await page.click('[data-testid="user-new"]');
    await page.fill('[data-testid="user-create-username"]', newcomer.username);
    await page.fill('[data-testid="user-create-email"]', `${newcomer.username}@example.com`);
    await page.fill('[data-testid="user-create-password"]', newcomer.password);
    await page.selectOption('[data-testid="user-create-role"]', 'moderator');
    await page.click('[data-testid="user-create-submit"]');
    await page.getByText(`Created ${newcomer.username}`).waitFor();

    await page.fill('[data-testid="user-search"]', newcomer.username.toUpperCase());
    await page.click('[data-testid="user-search-submit"]');
    await page.waitForURL(new RegExp(`search=${newcomer.username.toUpperCase()}`));
    await expect.poll(async () => page.locator('[data-testid="user-row"]').count()).toBe(1);
    expect(await row(newcomer.username).locator('[data-testid="user-role"]').textContent()).toBe('moderator');
    expect(await row(newcomer.username).textContent()).toContain(`${newcomer.username}@example.com`);

    // The account is real: its password signs in.
    const other = await browser.newContext();
    await signIn(other, newcomer.username, newcomer.password);
    await other.close();
  });

  it('shows a validation error from the server instead of creating a user', async () => {
    await page.click('[data-testid="user-new"]');
    await page.fill('[data-testid="user-create-username"]', `bad name ${suffix}`);
    await page.fill('[data-testid="user-create-email"]', `bad_${suffix}@example.com`);
    await page.fill('[data-testid="user-create-password"]', newcomer.password);
    await page.click('[data-testid="user-create-submit"]');
    await page.getByText(/username may contain only letters/).waitFor();
    expect(await page.locator('[data-testid="user-create-form"]').isVisible()).toBe(true);
  });

  it('changes the role of a user from its row', async () => {
    await row(newcomer.username).locator('[data-testid="user-edit"]').click();
    await page.selectOption('[data-testid="user-edit-role"]', 'user');
    await page.click('[data-testid="user-edit-save"]');
    await page.getByText(`Saved ${newcomer.username}`).waitFor();
    await expect
      .poll(async () => row(newcomer.username).locator('[data-testid="user-role"]').textContent())
      .toBe('user');
  });

  it('deletes a user only after confirming', async () => {
    await row(newcomer.username).locator('[data-testid="user-delete"]').click();
    await page.getByText(`Delete ${newcomer.username}? This cannot be undone.`).waitFor();
    expect(await page.isChecked('[data-testid="user-delete-cascade"]')).toBe(true);
    await page.click('[data-testid="user-delete-confirm"]');
    await page.getByText(`Deleted ${newcomer.username}`).waitFor();
    await page.locator('[data-testid="users-empty"]').waitFor();
    const gone = await context.request.post(`${baseUrl}/api/v1/auth/login`, {
      form: { username: newcomer.username, password: newcomer.password },
    });
    expect(gone.status()).toBe(401);
  });

  it('offers a plain user no link, and turns them away from the page', async () => {
    const plain = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const name = `plain_${suffix}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    await register(plain.request, name, password);
    await signIn(plain, name, password);
    const tab = await plain.newPage();
    await tab.goto(`${baseUrl}/editor`);
    await tab.locator('[data-testid="nav-editor"]').waitFor();
    expect(await tab.locator('[data-testid="nav-admin-users"]').count()).toBe(0);
    await tab.click('[data-testid="user-menu"]');
    expect(await tab.locator('[data-testid="menu-admin-users"]').count()).toBe(0);
    await tab.goto(`${baseUrl}/admin/users`);
    await tab.locator('[data-testid="admins-only"]').waitFor();
    expect(await tab.locator('[data-testid="user-row"]').count()).toBe(0);
    await plain.close();
  });

  it('fits a phone-sized screen, reached from the user menu', async () => {
    const phone = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await signIn(phone, admin.username, admin.password);
    const small = await phone.newPage();
    await small.goto(`${baseUrl}/editor`);
    await small.click('[data-testid="user-menu"]');
    await small.click('[data-testid="menu-admin-users"]');
    await small.waitForURL(/\/admin\/users$/);
    await small.locator('[data-testid="user-row"]').first().waitFor();
    await small.locator('[data-testid="user-row"]').first().locator('[data-testid="user-edit"]').click();
    await small.locator('[data-testid="user-edit-save"]').waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, '/admin/users is wider than the screen').toBeLessThanOrEqual(0);
    expect(await small.locator('[data-testid="user-edit-save"]').isVisible()).toBe(true);
    await phone.close();
  });
});
