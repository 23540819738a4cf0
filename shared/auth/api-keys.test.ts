import { describe, expect, it } from 'vitest';
import { bearerCredential, scopeForRoute } from './api-keys';

describe('bearerCredential', () => {
  it('reads the credential of a Bearer header, in any letter case', () => {
    expect(bearerCredential('Bearer i8c_abc')).toBe('i8c_abc');
    expect(bearerCredential('bearer   i8c_abc  ')).toBe('i8c_abc');
  });

  it('finds none without the header or with another scheme', () => {
    expect(bearerCredential(undefined)).toBeUndefined();
    expect(bearerCredential('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerCredential('Bearer')).toBeUndefined();
    expect(bearerCredential('Bearer a b')).toBeUndefined();
  });
});

describe('scopeForRoute', () => {
  it.each([
    ['POST', '/api/v1/execute', 'executions:write'],
    ['POST', '/api/v1/executions/abc/cancel', 'executions:write'],
    ['POST', '/api/v1/executions/abc/retry', 'executions:write'],
    ['GET', '/api/v1/executions/abc/result', 'executions:read'],
    ['GET', '/api/v1/executions/abc/events', 'executions:read'],
    ['GET', '/api/v1/events/executions/abc', 'executions:read'],
    ['GET', '/api/v1/user/executions', 'executions:read'],
    ['GET', '/api/v1/k8s-limits', 'executions:read'],
  ])('%s %s needs %s', (method, path, scope) => {
    expect(scopeForRoute(method, path)).toBe(scope);
  });

  it.each([
    ['DELETE', '/api/v1/executions/abc'],
    ['GET', '/api/v1/execute'],
    ['GET', '/api/v1/user/api-keys'],
    ['POST', '/api/v1/user/api-keys'],
    ['GET', '/api/v1/executions/abc/result/extra'],
    ['GET', '/api/v1/admin/users/'],
    ['GET', '/api/v1/events/notifications/stream'],
  ])('%s %s is not for keys', (method, path) => {
    expect(scopeForRoute(method, path)).toBeNull();
  });
});
