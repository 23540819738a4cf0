/**
 * The admin Dead letters page in headless Chromium: an administrator reaches it from the user menu,
 * inspects a dead letter's event, sends one again (it leaves the list) and discards another after
 * confirming; the page fits a phone. Starts the embedded server with the built app (web/dist).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionOutput } from '../../shared/events/sample-events';
import type { DeadLetter } from '../../shared/store/ports';
import { openTestBrowser, registerAccount, signInContext, type TestBrowser } from '../support/browser';

describe('admin Dead letters page in a real browser', { timeout: 180_000 }, () => {
  let testBrowser: TestBrowser;
  let baseUrl = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const admin = {
    username: `boss_${randomBytes(4).toString('hex')}`,
    password: `pw-${randomBytes(8).toString('hex')}`,
  };
  const letter = (event: DeadLetter['event']): DeadLetter => ({
    dead_letter_id: randomUUID(),
    subscriber: 'stream-sse',
    event,
    raw: event ? null : 'not an event',
    event_type: event?.event_type ?? 'unknown',
    event_id: event?.event_id ?? 'unknown',
    error: '11 attempts, last: HTTP 503',
    attempts: 11,
    created_at: new Date().toISOString(),
  });
  const retriable = letter(executionOutput(randomUUID()));
  const unreadable = letter(null);
  const row = (id: string) => page.locator(`[data-testid="dead-letter-row"][data-letter-id="${id}"]`);

  beforeAll(async () => {
    testBrowser = await openTestBrowser();
    ({ baseUrl, browser } = testBrowser);
    if (!testBrowser.platform) throw new Error('this test needs the embedded server it starts');
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const adminId = await registerAccount(context.request, baseUrl, admin.username, admin.password);
    await testBrowser.platform.store.users.update(adminId, { role: 'admin' });
    await testBrowser.platform.store.deadLetters.add(retriable);
    await testBrowser.platform.store.deadLetters.add(unreadable);
    await signInContext(context, baseUrl, admin.username, admin.password);
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await testBrowser?.close();
  });

  it('inspects a dead letter and sends its event again', async () => {
    await page.goto(`${baseUrl}/editor`);
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="menu-admin-dead-letters"]');
    await page.waitForURL(/\/admin\/dead-letters$/);
    await row(retriable.dead_letter_id).locator('[data-testid="dead-letter-inspect"]').click();
    const json = await row(retriable.dead_letter_id)
      .locator('[data-testid="dead-letter-json"]')
      .textContent();
    expect(JSON.parse(json ?? '{}')).toMatchObject({
      event_id: retriable.event_id,
      event_type: 'execution_output',
    });
    expect(
      await row(unreadable.dead_letter_id).locator('[data-testid="dead-letter-retry"]').isDisabled(),
    ).toBe(true);

    await row(retriable.dead_letter_id).locator('[data-testid="dead-letter-retry"]').click();
    await page.getByText(`Event ${retriable.event_id} sent again`).waitFor();
    await expect.poll(() => row(retriable.dead_letter_id).count()).toBe(0);
  });

  it('discards a dead letter only after confirming', async () => {
    await row(unreadable.dead_letter_id).locator('[data-testid="dead-letter-discard"]').click();
    await page.getByText('Discard this dead letter?').waitFor();
    await page.click('[data-testid="dead-letter-discard-confirm"]');
    await page.getByText('Dead letter discarded').waitFor();
    await expect
      .poll(() => testBrowser.platform!.store.deadLetters.get(unreadable.dead_letter_id))
      .toBeNull();
  });

  it('fits a phone-sized screen', async () => {
    await testBrowser.platform!.store.deadLetters.add(letter(null));
    const phone = await browser.newContext({
      viewport: { width: 360, height: 740 },
      isMobile: true,
      hasTouch: true,
    });
    await signInContext(phone, baseUrl, admin.username, admin.password);
    const small = await phone.newPage();
    await small.goto(`${baseUrl}/admin/dead-letters`);
    await small.locator('[data-testid="dead-letter-row"]').first().waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, '/admin/dead-letters is wider than the screen').toBeLessThanOrEqual(0);
    await phone.close();
  });
});
