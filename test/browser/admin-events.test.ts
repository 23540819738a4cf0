/**
 * The admin Events page in headless Chromium: an administrator reaches it from the navigation, sees the
 * day's statistics, finds a user's sign-in event by searching, opens it, exports what the filter selects
 * and deletes the event after confirming; the page fits a phone. Starts the embedded server with the built
 * app (web/dist), or uses the server at INTEGR8S_BASE_URL when set (then INTEGR8S_ADMIN_USERNAME and
 * INTEGR8S_ADMIN_PASSWORD name an administrator of it).
 */
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, registerAccount, signInContext, type TestBrowser } from '../support/browser';

describe('admin Events page in a real browser', { timeout: 180_000 }, () => {
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
  // Someone whose sign-up and sign-in are the events the page finds.
  const visitor = { username: `visitor_${suffix}`, password: `pw-${randomBytes(8).toString('hex')}` };
  let visitorId = '';
  const rows = () => page.locator('[data-testid="event-row"]');

  beforeAll(async () => {
    testBrowser = await openTestBrowser();
    ({ baseUrl, browser } = testBrowser);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
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
    visitorId = await registerAccount(other.request, baseUrl, visitor.username, visitor.password);
    await signInContext(other, baseUrl, visitor.username, visitor.password);
    await other.close();
    await signInContext(context, baseUrl, admin.username, admin.password);
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await testBrowser?.close();
  });

  it('shows the statistics and finds a user’s events by searching', async () => {
    await page.goto(`${baseUrl}/editor`);
    await page.click('[data-testid="nav-admin-events"]');
    await page.waitForURL(/\/admin\/events$/);
    await page.getByRole('heading', { name: 'Events' }).waitFor();
    await expect
      .poll(async () => Number(await page.locator('[data-testid="stat-total"]').textContent()))
      .toBeGreaterThan(0);

    await page.fill('[data-testid="event-filter-text"]', visitorId.toUpperCase());
    await page.click('[data-testid="event-filter-apply"]');
    await expect
      .poll(async () => (await rows().locator('[data-testid="event-type"]').allTextContents()).sort())
      .toEqual(['user_logged_in', 'user_registered']);
  });

  it('opens an event with its whole record', async () => {
    const signedIn = rows().filter({ hasText: 'user_logged_in' });
    await signedIn.locator('[data-testid="event-details"]').click();
    const json = await signedIn.locator('[data-testid="event-json"]').textContent();
    expect(JSON.parse(json ?? '{}')).toMatchObject({ event_type: 'user_logged_in', user_id: visitorId });
  });

  it('exports what the filter selects', async () => {
    await page.fill('[data-testid="event-filter-user"]', visitorId);
    await page.click('[data-testid="event-filter-apply"]');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid="event-export-json"]'),
    ]);
    const path = await download.path();
    const exported = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(path, 'utf8')));
    expect(exported.filters).toMatchObject({ user_id: visitorId });
    expect(exported.events.map((event: { event_type: string }) => event.event_type).sort()).toEqual([
      'user_logged_in',
      'user_registered',
    ]);
  });

  it('deletes an event only after confirming', async () => {
    const registered = rows().filter({ hasText: 'user_registered' });
    await registered.locator('[data-testid="event-delete"]').click();
    await page.getByText('Delete this event? It moves to the archive.').waitFor();
    await page.click('[data-testid="event-delete-confirm"]');
    await page.getByText('Event deleted; it is kept in the archive').waitFor();
    await expect
      .poll(async () => rows().locator('[data-testid="event-type"]').allTextContents())
      .toEqual(['user_logged_in']);
  });

  it('fits a phone-sized screen, reached from the user menu', async () => {
    const phone = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await signInContext(phone, baseUrl, admin.username, admin.password);
    const small = await phone.newPage();
    await small.goto(`${baseUrl}/editor`);
    await small.click('[data-testid="user-menu"]');
    await small.click('[data-testid="menu-admin-events"]');
    await small.waitForURL(/\/admin\/events$/);
    await small.locator('[data-testid="event-row"]').first().waitFor();
    await small.locator('[data-testid="event-details"]').first().click();
    await small.locator('[data-testid="event-json"]').waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, '/admin/events is wider than the screen').toBeLessThanOrEqual(0);
    await phone.close();
  });
});
