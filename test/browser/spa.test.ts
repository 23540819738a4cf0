/**
 * End-to-end check of the SPA in headless Chromium: sign up, sign in, run a Python script in the editor,
 * watch its output stream in, and find the run in History. Starts the embedded server with the built app
 * (web/dist), or uses the server at INTEGR8S_BASE_URL when set.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, type TestBrowser } from '../support/browser';

const RUN_TIMEOUT_MS = 60_000;

describe('single-page app in a real browser', { timeout: 180_000 }, () => {
  let testBrowser: TestBrowser | undefined;
  let baseUrl = '';
  let browser: Browser;
  let page: Page;
  const suffix = randomBytes(4).toString('hex');
  const username = `spa_${suffix}`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const marker = `MARKER-${randomBytes(6).toString('hex')}`;
  let executionId = '';

  beforeAll(async () => {
    testBrowser = await openTestBrowser();
    ({ baseUrl, browser } = testBrowser);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await testBrowser?.close();
  });

  it('sends a signed-out visitor of /editor to the login page', async () => {
    await page.goto(`${baseUrl}/editor`);
    await page.waitForURL(/\/login\?next=%2Feditor/);
    await expect(page.locator('#username').isVisible()).resolves.toBe(true);
  });

  it('registers a new account and lands on the login page with a success message', async () => {
    await page.goto(`${baseUrl}/register`);
    await page.fill('#username', username);
    await page.fill('#email', `${username}@example.com`);
    await page.fill('#password', password);
    await page.fill('#confirm-password', `${password}-typo`);
    await page.click('[data-testid="register-submit"]');
    await expect(page.getByText('The passwords do not match.').isVisible()).resolves.toBe(true);

    await page.fill('#confirm-password', password);
    await page.click('[data-testid="register-submit"]');
    await page.waitForURL(/\/login\?registered=/);
    const notice = await page.locator('[data-testid="register-success"]').textContent();
    expect(notice).toContain(username);
  });

  it('rejects a wrong password with a readable error', async () => {
    await page.fill('#username', username);
    await page.fill('#password', 'definitely-wrong');
    await page.click('[data-testid="login-submit"]');
    const error = await page.locator('[data-testid="form-error"]').textContent();
    expect(error).toMatch(/wrong username or password|invalid/i);
  });

  it('signs in and opens the editor', async () => {
    await page.fill('#password', password);
    await page.click('[data-testid="login-submit"]');
    await page.waitForURL(/\/editor$/);
    await page.getByRole('heading', { name: 'Code Editor' }).waitFor();
    await page.locator('[data-testid="user-menu"]').waitFor();
    expect(await page.locator('[data-testid="user-menu"]').textContent()).toContain(username);
  });

  it('runs a Python script and shows its output, status and exit code', async () => {
    await page.selectOption('[data-testid="lang-select"]', 'python');
    const editor = page.locator('[data-testid="code-editor"] .cm-content');
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    // insertText enters the script as one input, so auto-indent and bracket closing leave it untouched.
    await page.keyboard.insertText(
      `import sys\nprint("${marker}")\nprint("to-stderr-${suffix}", file=sys.stderr)\n`,
    );
    await expect(editor.textContent()).resolves.toContain(marker);

    await page.click('[data-testid="run-button"]');
    const stdout = page.locator('[data-testid="output-panel"] [data-testid="output-stdout"]');
    await expect
      .poll(async () => (await stdout.textContent()) ?? '', { timeout: RUN_TIMEOUT_MS, interval: 250 })
      .toContain(marker);

    const status = page.locator('[data-testid="output-panel"] [data-testid="execution-status"]');
    await expect
      .poll(async () => status.getAttribute('data-status'), { timeout: RUN_TIMEOUT_MS, interval: 250 })
      .toBe('completed');
    expect((await page.locator('[data-testid="exit-code"]').textContent())?.trim()).toBe('0');
    expect(await page.locator('[data-testid="output-stderr"]').textContent()).toContain(
      `to-stderr-${suffix}`,
    );
    expect(await page.locator('[data-testid="run-button"]').isEnabled()).toBe(true);

    const idLabel = (await page.locator('[data-testid="execution-id"]').textContent())?.trim() ?? '';
    executionId = idLabel.replace(/^#/, '');
    expect(executionId).not.toBe('');
  });

  it('lists the run in History and reopens it in the editor', async () => {
    await page.click('[data-testid="nav-history"]');
    await page.waitForURL(/\/history/);
    const row = page.locator(`[data-testid="history-row"][data-execution-id^="${executionId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toMatch(/completed/);

    await row.click();
    await page.waitForURL(/\/editor\?execution=/);
    await page.locator('[data-testid="viewing-banner"]').waitFor();
    await expect
      .poll(async () => (await page.locator('[data-testid="code-editor"] .cm-content').textContent()) ?? '')
      .toContain(marker);
    expect(await page.locator('[data-testid="output-stdout"]').textContent()).toContain(marker);
  });
});
