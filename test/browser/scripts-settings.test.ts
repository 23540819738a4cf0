/**
 * The saved-scripts and settings pages in headless Chromium: save the editor's script, find it among the
 * saved scripts, rename, export, upload, open and delete; change the editor settings and see CodeMirror
 * follow them, then restore them from the history; and both pages on a phone-sized screen. Starts the
 * embedded server with the built app (web/dist), or uses the server at INTEGR8S_BASE_URL when set.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, registerAccount, signInContext, type TestBrowser } from '../support/browser';

describe('saved scripts and settings in a real browser', { timeout: 180_000 }, () => {
  let testBrowser: TestBrowser | undefined;
  let baseUrl = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const suffix = randomBytes(4).toString('hex');
  const username = `pages_${suffix}`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const marker = `saved-${suffix}`;

  const signIn = (target: BrowserContext) => signInContext(target, baseUrl, username, password);

  const row = (name: string) => page.locator('[data-testid="script-row"]', { hasText: name });
  const editorContent = () => page.locator('[data-testid="code-editor"] .cm-content');

  beforeAll(async () => {
    testBrowser = await openTestBrowser();
    ({ baseUrl, browser } = testBrowser);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await registerAccount(context.request, baseUrl, username, password);
    await signIn(context);
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await testBrowser?.close();
  });

  it("saves the editor's script under a name and lists it among the saved scripts", async () => {
    await page.goto(`${baseUrl}/editor`);
    await page.getByRole('heading', { name: 'Code Editor' }).waitFor();
    await editorContent().click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(`print("${marker}")\n`);
    await page.fill('[data-testid="script-name-input"]', `First ${suffix}`);
    await page.click('[data-testid="save-button"]');
    await page.getByText(`Saved “First ${suffix}”`).waitFor();

    // Saving again updates the same script instead of making another.
    await editorContent().click();
    await page.keyboard.press('ControlOrMeta+End');
    await page.keyboard.insertText('# second save\n');
    await page.keyboard.press('ControlOrMeta+s');
    const saved = async () => {
      const response = await context.request.get(`${baseUrl}/api/v1/scripts`);
      return ((await response.json()) as { scripts: { script: string }[] }).scripts.map((s) => s.script);
    };
    await expect.poll(saved).toEqual([expect.stringContaining('# second save')]);

    await page.click('[data-testid="nav-scripts"]');
    await page.waitForURL(/\/scripts$/);
    await row(`First ${suffix}`).waitFor();
    expect(await page.locator('[data-testid="script-row"]').count()).toBe(1);
    expect(await row(`First ${suffix}`).textContent()).toMatch(/python/);
  });

  it('renames a script in place', async () => {
    await row(`First ${suffix}`).locator('[data-testid="script-rename"]').click();
    await page.fill('[data-testid="rename-input"]', `Renamed ${suffix}`);
    await page.keyboard.press('Enter');
    await row(`Renamed ${suffix}`).waitFor();
    expect(await row(`First ${suffix}`).count()).toBe(0);
  });

  it('exports a script as a file with the extension of its language', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row(`Renamed ${suffix}`).locator('[data-testid="script-export"]').click(),
    ]);
    expect(download.suggestedFilename()).toBe(`Renamed ${suffix}.py`);
    const file = await download.path();
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(`print("${marker}")`);
    expect(text).toContain('# second save');
  });

  it('uploads a file as a new script, with the language its extension names', async () => {
    await page.setInputFiles('[data-testid="upload-input"]', {
      name: `upload-${suffix}.sh`,
      mimeType: 'text/x-shellscript',
      buffer: Buffer.from(`echo "uploaded-${suffix}"\n`),
    });
    await row(`upload-${suffix}.sh`).waitFor();
    expect(await row(`upload-${suffix}.sh`).textContent()).toMatch(/bash/);
    expect(await page.locator('[data-testid="script-row"]').count()).toBe(2);
  });

  it('opens a saved script in the editor', async () => {
    await row(`upload-${suffix}.sh`).locator('[data-testid="script-open"]').click();
    await page.waitForURL(/\/editor$/);
    await expect
      .poll(async () => (await editorContent().textContent()) ?? '')
      .toContain(`uploaded-${suffix}`);
    expect(await page.inputValue('[data-testid="script-name-input"]')).toBe(`upload-${suffix}.sh`);
    expect(await page.inputValue('[data-testid="lang-select"]')).toBe('bash');
  });

  it('deletes a script after asking', async () => {
    await page.click('[data-testid="my-scripts-link"]');
    await page.waitForURL(/\/scripts$/);
    await row(`upload-${suffix}.sh`).locator('[data-testid="script-delete"]').click();
    await row(`upload-${suffix}.sh`).locator('[data-testid="delete-confirm"]').click();
    await expect.poll(async () => row(`upload-${suffix}.sh`).count()).toBe(0);
    expect(await page.locator('[data-testid="script-row"]').count()).toBe(1);
  });

  it('applies the editor settings to CodeMirror and the theme to the page', async () => {
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="nav-settings"]');
    await page.waitForURL(/\/settings$/);
    await page.selectOption('[data-testid="settings-theme"]', 'dark');
    await page.selectOption('[data-testid="settings-font-size"]', '20');
    await page.uncheck('[data-testid="settings-line-numbers"]');
    await page.uncheck('[data-testid="settings-word-wrap"]');
    await page.uncheck('[data-testid="settings-notify-system_updates"]');
    await page.click('[data-testid="settings-save"]');
    await page.getByText('Settings saved').waitFor();
    await page.locator('[data-testid="history-entry"][data-field="/editor/font_size"]').waitFor();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');

    await page.click('[data-testid="nav-editor"]');
    await editorContent().waitFor();
    expect(await editorContent().evaluate((node) => getComputedStyle(node).fontSize)).toBe('20px');
    expect(await editorContent().evaluate((node) => node.classList.contains('cm-lineWrapping'))).toBe(false);
    const numbers = page.locator('[data-testid="code-editor"] .cm-lineNumbers');
    expect(await numbers.evaluate((node) => getComputedStyle(node).display)).toBe('none');

    // The settings belong to the account: a fresh browser signed in as the same user gets them.
    const other = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await signIn(other);
    const second = await other.newPage();
    await second.goto(`${baseUrl}/editor`);
    const content = second.locator('[data-testid="code-editor"] .cm-content');
    await expect.poll(async () => content.evaluate((node) => getComputedStyle(node).fontSize)).toBe('20px');
    await expect.poll(async () => second.locator('html').getAttribute('data-theme')).toBe('dark');
    await other.close();
  });

  it('restores earlier settings from the history', async () => {
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="nav-settings"]');
    const entries = page.locator('[data-testid="history-entry"]');
    await entries.first().waitFor();
    const before = await entries.count();
    await page.selectOption('[data-testid="settings-font-size"]', '12');
    await page.click('[data-testid="settings-save"]');
    await expect.poll(async () => entries.count()).toBe(before + 1);

    // The entry below the newest one is from the earlier save: restore to right after it.
    await entries.nth(1).locator('[data-testid="history-restore"]').click();
    await page.getByText(/Restored the settings of/).waitFor();
    await page.locator('[data-testid="history-entry"][data-field="/"]').first().waitFor();
    expect(await page.inputValue('[data-testid="settings-font-size"]')).toBe('20');
  });

  it('fits both pages on a phone-sized screen', async () => {
    const phone = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await signIn(phone);
    const small = await phone.newPage();
    for (const path of ['/scripts', '/settings', '/editor']) {
      await small.goto(`${baseUrl}${path}`);
      await small.locator('main h1').waitFor();
      await small.locator('[data-testid="nav-scripts"]').waitFor();
      const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${path} is wider than the screen`).toBeLessThanOrEqual(0);
    }
    await small.goto(`${baseUrl}/scripts`);
    await small.locator('[data-testid="script-row"]').first().waitFor();
    expect(await small.locator('[data-testid="script-open"]').first().isVisible()).toBe(true);
    await phone.close();
  });
});
