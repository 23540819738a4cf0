import { describe, expect, it } from 'vitest';
import { backoffMs, classifyDelivery } from './delivery';
import type { DeliveryPolicy } from './port';

describe('classifyDelivery', () => {
  it.each([200, 201, 202, 204, 299])('acks %i', (status) => {
    expect(classifyDelivery({ status })).toBe('ack');
  });

  it.each([500, 502, 503, 504, 599, 404, 408, 409, 429])('retries %i', (status) => {
    expect(classifyDelivery({ status })).toBe('retry');
  });

  it('retries a request that failed or timed out', () => {
    expect(classifyDelivery({ error: new TypeError('fetch failed') })).toBe('retry');
    expect(classifyDelivery({ error: new Error('delivery timed out') })).toBe('retry');
  });

  it.each([100, 301, 304, 400, 401, 403, 405, 410, 413, 415, 422, 451])('dead-letters %i', (status) => {
    expect(classifyDelivery({ status })).toBe('dead-letter');
  });
});

describe('backoffMs', () => {
  const policy = (backoffPolicy: DeliveryPolicy['backoffPolicy']): DeliveryPolicy => ({
    retry: 5,
    backoffPolicy,
    backoffDelayMs: 200,
    timeoutMs: 1000,
  });

  it('doubles the delay after each failed attempt when exponential', () => {
    expect([0, 1, 2, 3, 4].map((attempt) => backoffMs(policy('exponential'), attempt))).toEqual([
      200, 400, 800, 1600, 3200,
    ]);
  });

  it('adds the delay after each failed attempt when linear', () => {
    expect([0, 1, 2, 3, 4].map((attempt) => backoffMs(policy('linear'), attempt))).toEqual([
      200, 400, 600, 800, 1000,
    ]);
  });

  it('retries at once when the delay is zero', () => {
    expect(backoffMs({ ...policy('exponential'), backoffDelayMs: 0 }, 3)).toBe(0);
  });
});
