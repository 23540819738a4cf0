import { describe, expect, it } from 'vitest';
import { ConfigError, formatBytes, loadConfig, millicores } from './config';

describe('loadConfig', () => {
  it('fills every default from an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8080,
      DATA_DIR: '.data',
      MEMORY_LIMIT: 128 * 1024 ** 2,
      OUTPUT_LIMIT: 1024 ** 2,
    });
    expect(config.RATE_LIMIT_ENABLED).toBe(true);
  });

  it('parses sizes, booleans and numbers', () => {
    const config = loadConfig({
      MEMORY_LIMIT: '1Gi',
      TMP_SIZE: '512Ki',
      COOKIE_SECURE: 'no',
      PORT: ' 9000 ',
      MAX_BODY_BYTES: '2048',
    });
    expect(config).toMatchObject({
      MEMORY_LIMIT: 1024 ** 3,
      TMP_SIZE: 512 * 1024,
      COOKIE_SECURE: false,
      PORT: 9000,
      MAX_BODY_BYTES: 2048,
    });
  });

  it('reads the delivery allow-list and the public address of the web app', () => {
    const config = loadConfig({
      NOTIFY_ALLOWED_HOSTS: ' 127.0.0.1, 10.0.0.0/8,Hooks.Internal ,*.corp.example,',
      PUBLIC_URL: 'https://code.example.com/',
    });
    expect(config.NOTIFY_ALLOWED_HOSTS).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      'hooks.internal',
      '*.corp.example',
    ]);
    expect(config.PUBLIC_URL).toBe('https://code.example.com');
    expect(loadConfig({}).NOTIFY_ALLOWED_HOSTS).toEqual([]);
    expect(() => loadConfig({ NOTIFY_ALLOWED_HOSTS: '10.0.0.0/40' })).toThrow(
      /NOTIFY_ALLOWED_HOSTS="10.0.0.0\/40"/,
    );
    expect(() => loadConfig({ PUBLIC_URL: 'code.example.com' })).toThrow(/PUBLIC_URL/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(8080);
  });

  it('names every bad variable, its value and what it expects', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        MEMORY_LIMIT: '12XB',
        SECRET_KEY: 'short',
        COOKIE_SECURE: 'maybe',
        EXECUTION_TIMEOUT_SECONDS: '0',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT="eighty": must be a whole number');
    expect(message).toContain('MEMORY_LIMIT="12XB": must be a size such as 128Mi');
    expect(message).toContain('SECRET_KEY="short": must be at least 32 characters');
    expect(message).toContain('COOKIE_SECURE="maybe": must be true or false');
    expect(message).toContain('EXECUTION_TIMEOUT_SECONDS="0"');
  });

  it('checks the Kubernetes backend settings: no default namespace, known pod-event feeds', () => {
    expect(loadConfig({})).toMatchObject({
      SANDBOX_BACKEND: 'local',
      KUBERNETES_NAMESPACE: 'integr8scode-executions',
      MONITOR_POD_EVENTS: 'watch',
      MONITOR_SWEEP_INTERVAL_SECONDS: 60,
    });
    expect(() => loadConfig({ KUBERNETES_NAMESPACE: 'default' })).toThrow(
      /KUBERNETES_NAMESPACE="default": must not be default/,
    );
    expect(() => loadConfig({ MONITOR_POD_EVENTS: 'kafka' })).toThrow(
      /MONITOR_POD_EVENTS="kafka": must be watch or apiserversource/,
    );
    expect(() => loadConfig({ SANDBOX_BACKEND: 'docker' })).toThrow(/must be local or kubernetes/);
  });
});

describe('quantities', () => {
  it('reads the trusted proxies as addresses and CIDR blocks, refusing anything else', () => {
    expect(loadConfig({}).TRUSTED_PROXIES).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: ' 127.0.0.1, ::1 ,10.0.0.0/8,fd00::/8' }).TRUSTED_PROXIES).toEqual([
      '127.0.0.1',
      '::1',
      '10.0.0.0/8',
      'fd00::/8',
    ]);
    for (const bad of ['gateway.local', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '10.0.0.0/x'])
      expect(() => loadConfig({ TRUSTED_PROXIES: bad }), bad).toThrow(/TRUSTED_PROXIES/);
  });

  it('converts CPU quantities to millicores and bytes back to Kubernetes notation', () => {
    expect(millicores('500m')).toBe(500);
    expect(millicores('1.5')).toBe(1500);
    expect(formatBytes(128 * 1024 ** 2)).toBe('128Mi');
    expect(formatBytes(2 * 1024 ** 3)).toBe('2Gi');
    expect(formatBytes(1000)).toBe('1000');
  });
});
