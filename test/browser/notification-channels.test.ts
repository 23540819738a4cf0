/**
 * The notifications page in headless Chromium: set up a webhook subscription (URL, severity and tag
 * filters) and see the signing secret the server made; an invalid Slack set-up is answered on the card;
 * the delivery log lists a delivery with each attempt; the page fits a phone. Starts the embedded server
 * with the built app (web/dist), or uses the server at INTEGR8S_BASE_URL when set.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, type TestBrowser } from '../support/browser';
import { type BrowserAccount, openAccount } from '../support/browser-account';

interface Subscription {
  channel: string;
  enabled: boolean;
  webhook_url: string | null;
  severities: string[];
  include_tags: string[];
  webhook_secret: string | null;
}

describe('notification channels in a real browser', { timeout: 180_000 }, () => {
  let testBrowser: TestBrowser | undefined;
  let baseUrl = '';
  let browser: Browser;
  let account: BrowserAccount;
  let context: BrowserContext;
  let page: Page;
  const suffix = randomBytes(4).toString('hex');
  const hookUrl = `https://hooks.example.com/integr8s/${suffix}`;

  const card = (channel: string) => page.locator(`[data-testid="subscription-${channel}"]`);

  beforeAll(async () => {
    testBrowser = await openTestBrowser();
    ({ baseUrl, browser } = testBrowser);
    account = await openAccount(testBrowser, {
      username: `channels_${suffix}`,
      password: `pw-${randomBytes(6).toString('hex')}`,
    });
    ({ context, page } = account);
  });

  afterAll(async () => {
    await testBrowser?.close();
  });

  it('sets up a webhook subscription and shows the signing secret the server made', async () => {
    await page.goto(`${baseUrl}/editor`);
    await page.click('[data-testid="notification-bell"]');
    await page.click('[data-testid="notification-channels-link"]');
    await page.waitForURL(/\/notifications$/);
    await card('webhook').waitFor();
    expect(await page.locator('[data-testid="webhook-secret"]').count()).toBe(0);

    await page.check('[data-testid="subscription-enabled-webhook"]');
    await page.fill('[data-testid="subscription-url-webhook"]', hookUrl);
    await page.check('[data-testid="severity-webhook-high"]');
    await page.check('[data-testid="severity-webhook-urgent"]');
    await page.fill('[data-testid="include-tags-webhook"]', 'failed, timeout');
    // Webhooks are off in the default settings; saving turns them on there too, and says so first.
    await page.locator('[data-testid="settings-channel-note"]').waitFor();
    await page.click('[data-testid="subscription-save-webhook"]');
    await page.getByText('Webhook notifications saved').waitFor();

    const secretField = page.locator('[data-testid="webhook-secret"]');
    await secretField.waitFor();
    expect(await secretField.getAttribute('type')).toBe('password');
    await page.click('[data-testid="webhook-secret-toggle"]');
    expect(await secretField.getAttribute('type')).toBe('text');
    const shown = await secretField.inputValue();
    expect(shown).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

    const stored = await context.request.get(`${baseUrl}/api/v1/notifications/subscriptions`);
    const webhook = ((await stored.json()) as { subscriptions: Subscription[] }).subscriptions.find(
      (s) => s.channel === 'webhook',
    )!;
    expect(webhook).toMatchObject({
      enabled: true,
      webhook_url: hookUrl,
      severities: ['high', 'urgent'],
      include_tags: ['failed', 'timeout'],
      webhook_secret: shown,
    });
    const settings = await context.request.get(`${baseUrl}/api/v1/user/settings/`);
    expect(
      ((await settings.json()) as { notifications: { channels: string[] } }).notifications.channels,
    ).toContain('webhook');
    expect(await page.locator('[data-testid="settings-channel-note"]').count()).toBe(0);

    // A new secret on request; the old one no longer signs anything.
    await page.click('[data-testid="webhook-secret-rotate"]');
    await page.getByText('New signing secret made').waitFor();
    await expect.poll(() => page.locator('[data-testid="webhook-secret"]').inputValue()).not.toBe(shown);
  });

  it('answers a Slack channel enabled without its URL on the card, saving nothing', async () => {
    await page.check('[data-testid="subscription-enabled-slack"]');
    await page.click('[data-testid="subscription-save-slack"]');
    const error = page.locator('[data-testid="subscription-error-slack"]');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/slack_webhook: is required/);
    const stored = await context.request.get(`${baseUrl}/api/v1/notifications/subscriptions`);
    const slack = ((await stored.json()) as { subscriptions: Subscription[] }).subscriptions.find(
      (s) => s.channel === 'slack',
    )!;
    expect(slack.enabled).toBe(false);
  });

  it('lists deliveries in the log with every attempt', async (ctx) => {
    const platform = testBrowser?.platform;
    if (!platform) return ctx.skip();
    const at = (seconds: number) => new Date(Date.now() - 60_000 + seconds * 1000).toISOString();
    await platform.store.notificationDeliveries.create({
      delivery_id: `delivery-${suffix}`,
      notification_id: `notification-${suffix}`,
      user_id: account.userId,
      channel: 'webhook',
      status: 'delivered',
      message: {
        subject: `Execution failed ${suffix}`,
        body: 'Execution failed: script error, exit code 1.',
        severity: 'high',
        tags: ['execution', 'failed'],
        action_url: '/editor',
        created_at: at(0),
      },
      attempts: 3,
      next_attempt_at: null,
      held_for: null,
      last_status_code: 204,
      last_error: null,
      created_at: at(0),
      updated_at: at(3),
      delivered_at: at(3),
    });
    for (const [attempt, status] of [
      [1, 500],
      [2, 503],
      [3, 204],
    ] as const)
      await platform.store.notificationDeliveries.beginAttempt({
        delivery_id: `delivery-${suffix}`,
        attempt,
        user_id: account.userId,
        channel: 'webhook',
        target: 'https://hooks.example.com',
        started_at: at(attempt),
        finished_at: at(attempt),
        duration_ms: 12.5,
        outcome: status === 204 ? 'succeeded' : 'failed',
        status_code: status,
        error: status === 204 ? null : `HTTP ${status}`,
      });

    await page.click('[data-testid="delivery-refresh"]');
    const row = page.locator('[data-testid="delivery-row"]', { hasText: `Execution failed ${suffix}` });
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('delivered');
    await row.locator('summary').click();
    const attempts = row.locator('[data-testid="delivery-attempt"]');
    await attempts.first().waitFor();
    expect(await attempts.count()).toBe(3);
    expect(await attempts.nth(0).textContent()).toMatch(/HTTP 500/);
    expect(await attempts.nth(2).getAttribute('data-outcome')).toBe('succeeded');
  });

  it('fits a phone-sized screen, reached from the user menu', async () => {
    const phone = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await account.signIn(phone);
    const small = await phone.newPage();
    await small.goto(`${baseUrl}/editor`);
    await small.click('[data-testid="user-menu"]');
    await small.click('[data-testid="nav-notifications"]');
    await small.waitForURL(/\/notifications$/);
    await small.locator('[data-testid="webhook-secret"]').waitFor();
    await small.check('[data-testid="quiet-enabled-webhook"]');
    await small.locator('[data-testid="tz-webhook"]').waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, '/notifications is wider than the screen').toBeLessThanOrEqual(0);
    for (const id of ['subscription-save-webhook', 'subscription-url-webhook', 'webhook-secret-rotate'])
      expect(await small.locator(`[data-testid="${id}"]`).isVisible(), id).toBe(true);
    await phone.close();
  });
});
