/**
 * The Sagas page and the admin Executions page in headless Chromium: a user runs a script and finds
 * its completed saga with every step; an administrator sees a waiting execution in the queue and moves
 * it to another priority; both pages fit a phone. Starts the embedded server with the built app.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newExecution } from '../../shared/domain/execution';
import { openTestBrowser, registerAccount, signInContext, type TestBrowser } from '../support/browser';

describe('Sagas and admin Executions pages in a real browser', { timeout: 180_000 }, () => {
  let testBrowser: TestBrowser;
  let baseUrl = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const suffix = randomBytes(4).toString('hex');
  const admin = { username: `boss_${suffix}`, password: `pw-${randomBytes(8).toString('hex')}` };
  let adminId = '';

  beforeAll(async () => {
    testBrowser = await openTestBrowser();
    ({ baseUrl, browser } = testBrowser);
    if (!testBrowser.platform) throw new Error('this test needs the embedded server it starts');
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    adminId = await registerAccount(context.request, baseUrl, admin.username, admin.password);
    await testBrowser.platform.store.users.update(adminId, { role: 'admin' });
    await signInContext(context, baseUrl, admin.username, admin.password);
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  });

  afterAll(async () => {
    await testBrowser?.close();
  });

  it("shows a finished run's saga with every step", async () => {
    const submitted = await context.request.post(`${baseUrl}/api/v1/execute`, {
      data: { script: 'print("saga")', lang: 'python' },
      headers: {
        'X-CSRF-Token': (await context.cookies()).find((c) => c.name === 'csrf_token')?.value ?? '',
      },
    });
    expect(submitted.status()).toBe(200);
    const { execution_id: id } = await submitted.json();

    await page.goto(`${baseUrl}/editor`);
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="menu-sagas"]');
    await page.waitForURL(/\/sagas$/);
    const row = page.locator(`[data-testid="saga-row"][data-saga-id="${id}"]`);
    await expect
      .poll(
        async () => {
          await page.reload();
          return row
            .locator('[data-testid="saga-state"]')
            .textContent({ timeout: 5000 })
            .catch(() => null);
        },
        { timeout: 20_000 },
      )
      .toBe('completed');
    expect(await row.textContent()).toContain('store result');
  });

  it('moves a waiting execution to another priority from the queue page', async () => {
    const id = randomUUID();
    await testBrowser.platform!.store.executions.create(
      newExecution({
        execution_id: id,
        user_id: adminId,
        script: 'print(1)',
        stdin: '',
        lang: 'python',
        lang_version: '3.12',
        priority: 'low',
        created_at: new Date().toISOString(),
      }),
    );
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="menu-admin-executions"]');
    await page.waitForURL(/\/admin\/executions$/);
    await page.selectOption('[data-testid="exec-status-filter"]', 'queued');
    const row = page.locator(`[data-testid="exec-row"][data-execution-id="${id}"]`);
    await row.waitFor();
    expect(Number(await page.locator('[data-testid="queue-depth"]').textContent())).toBeGreaterThanOrEqual(1);
    await row.locator('[data-testid="exec-priority"]').selectOption('critical');
    await page.getByText('Priority set to critical').waitFor();
    expect((await testBrowser.platform!.store.executions.get(id))?.priority).toBe('critical');
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
    for (const path of ['/sagas', '/admin/executions']) {
      await small.goto(`${baseUrl}${path}`);
      await small.locator('[data-testid="saga-row"], [data-testid="exec-row"]').first().waitFor();
      const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${path} is wider than the screen`).toBeLessThanOrEqual(0);
    }
    await phone.close();
  });
});
