import { describe, expect, it } from 'vitest';
import { notificationTarget, safeReturnPath } from './links';

describe('safeReturnPath', () => {
  it('keeps in-app paths with their query', () => {
    expect(safeReturnPath('/editor')).toBe('/editor');
    expect(safeReturnPath('/history?page=2&status=failed')).toBe('/history?page=2&status=failed');
  });

  it('refuses other origins, including the backslash and protocol-relative forms', () => {
    expect(safeReturnPath('https://evil.example/')).toBeNull();
    expect(safeReturnPath('//evil.example/editor')).toBeNull();
    expect(safeReturnPath('/\\evil.example')).toBeNull();
    expect(safeReturnPath('javascript:alert(1)')).toBeNull();
    expect(safeReturnPath(null)).toBeNull();
  });

  it('does not send a user back to the sign-in pages', () => {
    expect(safeReturnPath('/login?next=/editor')).toBeNull();
    expect(safeReturnPath('/register')).toBeNull();
    expect(safeReturnPath('/loginhelp')).toBe('/loginhelp');
  });
});

describe('notificationTarget', () => {
  it('opens execution links in the editor', () => {
    expect(notificationTarget('/editor?execution=abc')).toBe('/editor?execution=abc');
    expect(notificationTarget('/api/v1/executions/abc-123/result')).toBe('/editor?execution=abc-123');
  });

  it('ignores external and API links', () => {
    expect(notificationTarget('https://example.com/x')).toBeNull();
    expect(notificationTarget('//example.com/x')).toBeNull();
    expect(notificationTarget('/api/v1/notifications')).toBeNull();
    expect(notificationTarget('')).toBeNull();
  });
});
