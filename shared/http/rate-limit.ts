/**
 * Fixed-window rate limits in the shared key-value store, so every replica of a function counts
 * together. The caller is the signed-in user, else the client's address (see client-address.ts).
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../platform/function';
import type { Platform } from '../platform/platform';
import { clientAddress } from './client-address';
import { addressRanges } from './ip-addresses';

export interface RateLimitRule {
  /** Names the counter; rules with different names never share one. */
  name: string;
  limit: number;
  windowMs: number;
}

export interface WindowCount {
  count: number;
  /** Start of the next window (epoch ms). */
  resetAt: number;
}

/** Counts one request against `subject` in the window that contains `nowMs`. */
export async function countRequest(
  platform: Platform,
  rule: RateLimitRule,
  subject: string,
  nowMs: number,
): Promise<WindowCount> {
  const window = Math.floor(nowMs / rule.windowMs);
  const count = await platform.kv.increment(`ratelimit:${rule.name}:${subject}:${window}`, {
    ttlMs: rule.windowMs,
  });
  return { count, resetAt: (window + 1) * rule.windowMs };
}

export function rateLimit(platform: Platform, rule: RateLimitRule): MiddlewareHandler<AppEnv> {
  const trusted = addressRanges(platform.config.TRUSTED_PROXIES);
  return async (c, next) => {
    if (!platform.config.RATE_LIMIT_ENABLED) return next();
    const user = c.get('user');
    // Callers without a socket address (in-process requests) share one bucket.
    const subject = user ? `user:${user.user_id}` : `ip:${clientAddress(c, trusted) ?? 'unknown'}`;
    const now = platform.now().getTime();
    const { count, resetAt } = await countRequest(platform, rule, subject, now);
    const headers = {
      'X-RateLimit-Limit': String(rule.limit),
      'X-RateLimit-Remaining': String(Math.max(0, rule.limit - count)),
      'X-RateLimit-Reset': String(Math.ceil(resetAt / 1000)),
    };
    if (count > rule.limit) {
      const retryAfter = Math.max(1, Math.ceil((resetAt - now) / 1000));
      return c.json(
        {
          detail: 'Rate limit exceeded',
          type: 'ThrottledError',
          retry_after: retryAfter,
          reset_at: new Date(resetAt).toISOString(),
        },
        429,
        { ...headers, 'Retry-After': String(retryAfter) },
      );
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}
