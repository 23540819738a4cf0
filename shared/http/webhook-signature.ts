/**
 * Webhook signatures. Every delivery carries
 *
 *   X-Integr8sCode-Timestamp: <unix seconds when this attempt was sent>
 *   X-Integr8sCode-Signature: sha256=<hex HMAC-SHA256 of `${timestamp}.${raw body}` keyed with the secret>
 *
 * A receiver recomputes the HMAC over the raw body bytes as received, compares in constant time and
 * refuses timestamps far from its clock (replays). The key is the subscription's secret string as UTF-8.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Integr8sCode-Signature';
export const TIMESTAMP_HEADER = 'X-Integr8sCode-Timestamp';
/** The delivery's id, the same on every attempt: receivers drop repeats by it. */
export const DELIVERY_HEADER = 'X-Integr8sCode-Delivery';
export const ATTEMPT_HEADER = 'X-Integr8sCode-Attempt';

/** How far a signed timestamp may lie from the verifier's clock by default (seconds). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** A new signing secret: 32 random bytes, prefixed so it is recognisable when pasted somewhere. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Checks a delivery as a receiver would: the signature matches and the timestamp is recent. */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | null | undefined; signature: string | null | undefined },
  body: string,
  options: { now?: number; toleranceSeconds?: number } = {},
): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !/^\d+$/.test(timestamp) || !signature) return false;
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS))
    return false;
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
