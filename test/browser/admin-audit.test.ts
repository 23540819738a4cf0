/**
 * The admin Audit log page in headless Chromium: an administrator changes a user's role on the Users
 * page, then finds that change on the Audit log page (reached from the user menu) with the role before
 * and after; the page fits a phone. Starts the embedded server with the built app (web/dist), or uses the
 * server at INTEGR8S_BASE_URL (then INTEGR8S_ADMIN_USERNAME and INTEGR8S_ADMIN_PASSWORD name an admin).
 */
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, registerAccount, signInContext, type TestBrowser } from '../support/browser';

describe('admin Audit log page in a real browser', { timeout: 180_000 }, () => {
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
  const member = `member_${suffix}`;
  let memberId = '';

  beforeAll(async () => {
    testBrowser = await openTestBrowser();
    ({ baseUrl, browser } = testBrowser);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { platform } = testBrowser;
    if (platform) {
      const userId = await registerAccount(context.request, baseUrl, admin.username, admin.password);
      await platform.store.users.update(userId, { role: 'admin' });
    } else if (!process.env.INTEGR8S_ADMIN_USERNAME) {
      throw new Error(
        'INTEGR8S_BASE_URL is set: INTEGR8S_ADMIN_USERNAME and INTEGR8S_ADMIN_PASSWORD must name an admin',
      );
    }
    const other = await browser.newContext();
    memberId = await registerAccount(other.request, baseUrl, member, `pw-${randomBytes(8).toString('hex')}`);
    await other.close();
    await signInContext(context, baseUrl, admin.username, admin.password);
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await testBrowser?.close();
  });

  it("finds an admin's change with the values before and after", async () => {
    await page.goto(`${baseUrl}/admin/users?search=${member}`);
    const row = page.locator('[data-testid="user-row"]', { hasText: member });
    await row.locator('[data-testid="user-edit"]').click();
    await page.selectOption('[data-testid="user-edit-role"]', 'moderator');
    await page.click('[data-testid="user-edit-save"]');
    await page.getByText(`Saved ${member}`).waitFor();

    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="menu-admin-audit"]');
    await page.waitForURL(/\/admin\/audit$/);
    await page.selectOption('[data-testid="audit-filter-target-type"]', 'user');
    await page.fill('[data-testid="audit-filter-target-id"]', memberId);
    await page.click('[data-testid="audit-filter-apply"]');
    const entry = page.locator('[data-testid="audit-entry"]', { hasText: 'user.update' });
    await entry.waitFor();
    expect(await page.locator('[data-testid="audit-entry"]').count()).toBe(1);
    expect(await entry.textContent()).toContain(`by ${admin.username}`);
    expect(await entry.locator('[data-testid="audit-change"]').textContent()).toMatch(
      /role\s*user → moderator/,
    );
  });

  it('fits a phone-sized screen', async () => {
    const phone = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await signInContext(phone, baseUrl, admin.username, admin.password);
    const small = await phone.newPage();
    await small.goto(`${baseUrl}/admin/audit`);
    await small.locator('[data-testid="audit-entry"]').first().waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, '/admin/audit is wider than the screen').toBeLessThanOrEqual(0);
    await phone.close();
  });
});
