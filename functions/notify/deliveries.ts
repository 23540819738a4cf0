/**
 * Delivering notifications to webhook and Slack subscriptions. A delivery is stored first (pending,
 * due at once); a runner picks up due deliveries and, for each, either waits (quiet hours, throttle),
 * stops (the subscription was turned off) or makes one attempt. An attempt is claimed by storing it
 * under its number before anything is sent, so of several runners (processes, pods) exactly one sends
 * attempt n; its outcome decides whether the delivery is delivered, failed for good, or due again after
 * an exponential backoff. Everything lives in the store, so a restart loses nothing: pending deliveries
 * are picked up again, and an attempt whose sender died is marked abandoned and retried.
 *
 * The runner runs when an event made deliveries, on a timer in the process (woken for the next due
 * delivery it knows of, and every NOTIFY_DELIVERY_POLL_SECONDS) and, on Knative, on each PingSource
 * event, which wakes a function scaled to zero.
 */
import { v5 as uuidV5 } from 'uuid';
import type { DeliverySettings } from '../../shared/config/config';
import type { NotificationRecord } from '../../shared/domain/notification';
import type {
  DeliveryAttempt,
  DeliveryHold,
  DeliveryRecord,
  DeliveryStatus,
  ExternalChannel,
} from '../../shared/domain/notification-delivery';
import { type SubscriptionRecord, targetOf } from '../../shared/domain/notification-subscription';
import { quietHoursEnd } from '../../shared/domain/quiet-hours';
import { DEFAULT_PREFERENCES } from '../../shared/domain/user-settings';
import { type OutboundRequest, type OutboundResult, postGuarded } from '../../shared/http/outbound';
import { type AllowList, allowList } from '../../shared/http/outbound-guard';
import {
  ATTEMPT_HEADER,
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from '../../shared/http/webhook-signature';
import type { Logger } from '../../shared/log';
import type { Platform } from '../../shared/platform/platform';
import { slackPayload, webhookPayload } from './messages';

const DELIVERY_NAMESPACE = '5b0e7c2a-8d4f-4a31-9e6b-0c3f1d2a7e58';

/** One delivery per notification and channel, whatever number of times its event arrives. */
export const deliveryIdFor = (notificationId: string, channel: ExternalChannel): string =>
  uuidV5(`${notificationId}:${channel}`, DELIVERY_NAMESPACE);

export function newDelivery(
  notification: NotificationRecord,
  channel: ExternalChannel,
  now: Date,
): DeliveryRecord {
  const at = now.toISOString();
  return {
    delivery_id: deliveryIdFor(notification.notification_id, channel),
    notification_id: notification.notification_id,
    user_id: notification.user_id,
    channel,
    status: 'pending',
    message: {
      subject: notification.subject,
      body: notification.body,
      severity: notification.severity,
      tags: notification.tags,
      action_url: notification.action_url,
      created_at: notification.created_at,
    },
    attempts: 0,
    next_attempt_at: at,
    held_for: null,
    last_status_code: null,
    last_error: null,
    created_at: at,
    updated_at: at,
    delivered_at: null,
  };
}

type BackoffSettings = Pick<DeliverySettings, 'NOTIFY_RETRY_BASE_DELAY_MS' | 'NOTIFY_RETRY_MAX_DELAY_MS'>;

/** The wait after failed attempt `failed` (1 for the first): base, 2 × base, 4 × base … up to the cap. */
export const backoffDelayMs = (failed: number, settings: BackoffSettings): number =>
  Math.min(settings.NOTIFY_RETRY_MAX_DELAY_MS, settings.NOTIFY_RETRY_BASE_DELAY_MS * 2 ** (failed - 1));

/**
 * When the throttle lets the next request through, given the start times of the requests in the
 * current window (oldest first); null when it does now.
 */
export function throttledUntil(startTimes: readonly string[], max: number, windowMs: number): Date | null {
  if (startTimes.length < max) return null;
  return new Date(Date.parse(startTimes[startTimes.length - max]!) + windowMs);
}

/** Scheme, host and port: what the delivery log shows of a target (a Slack URL's path is its secret). */
export const originOf = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
};

export interface DeliveryContext {
  platform: Platform;
  settings: DeliverySettings;
  allow: AllowList;
  /** Makes the request (tests substitute resolvers through it). */
  send(request: OutboundRequest): Promise<OutboundResult>;
  log: Logger;
}

export function deliveryContext(
  platform: Platform,
  overrides: Partial<Omit<DeliveryContext, 'platform'>> = {},
): DeliveryContext {
  return {
    platform,
    settings: platform.config,
    allow: allowList(platform.config.NOTIFY_ALLOWED_HOSTS),
    send: postGuarded,
    log: platform.log.child({ function: 'notify', component: 'deliveries' }),
    ...overrides,
  };
}

export type DeliveryOutcome = 'delivered' | 'retry' | 'failed' | 'held' | 'cancelled' | 'busy';

/** An attempt that has been `in_progress` this much longer than a request may take was abandoned. */
const ABANDONED_GRACE_MS = 30_000;
const MAX_REDIRECTS = 3;

const nowIso = (ctx: DeliveryContext) => ctx.platform.now().toISOString();

/**
 * Writes a decision taken without an attempt (wait, stop) unless another runner moved the delivery on
 * since it was read; the store has no compare-and-set on every server, so this narrows the race to the
 * moment between the two calls, and an attempt's outcome written in that moment would be rewritten.
 */
async function writeUnlessMoved(
  ctx: DeliveryContext,
  read: DeliveryRecord,
  next: DeliveryRecord,
): Promise<boolean> {
  const current = await ctx.platform.store.notificationDeliveries.get(read.delivery_id);
  if (current?.status !== 'pending' || current.attempts !== read.attempts) return false;
  await ctx.platform.store.notificationDeliveries.update(next);
  return true;
}

async function hold(ctx: DeliveryContext, delivery: DeliveryRecord, until: Date, why: DeliveryHold) {
  const next = { ...delivery, next_attempt_at: until.toISOString(), held_for: why, updated_at: nowIso(ctx) };
  return (await writeUnlessMoved(ctx, delivery, next)) ? 'held' : 'busy';
}

/** Settles a delivery from the outcome of its latest attempt. */
async function settle(
  ctx: DeliveryContext,
  delivery: DeliveryRecord,
  attempt: DeliveryAttempt,
  result: Pick<OutboundResult, 'refused' | 'permanent' | 'retryAfterMs'>,
): Promise<DeliveryOutcome> {
  const finished = attempt.finished_at ?? nowIso(ctx);
  const base = {
    ...delivery,
    attempts: attempt.attempt,
    held_for: null,
    last_status_code: attempt.status_code,
    last_error: attempt.error,
    updated_at: nowIso(ctx),
  };
  let outcome: DeliveryOutcome;
  let status: DeliveryStatus = 'pending';
  let next: string | null = null;
  if (attempt.outcome === 'succeeded') {
    outcome = 'delivered';
    status = 'delivered';
  } else if (result.refused || result.permanent || attempt.attempt >= ctx.settings.NOTIFY_RETRY_ATTEMPTS) {
    outcome = 'failed';
    status = 'failed';
  } else {
    outcome = 'retry';
    // A receiver that asks for more time (429/503 with Retry-After) gets it, within the longest wait.
    const wait = Math.min(
      ctx.settings.NOTIFY_RETRY_MAX_DELAY_MS,
      Math.max(backoffDelayMs(attempt.attempt, ctx.settings), result.retryAfterMs ?? 0),
    );
    next = new Date(Date.parse(finished) + wait).toISOString();
  }
  await ctx.platform.store.notificationDeliveries.update({
    ...base,
    status,
    next_attempt_at: next,
    delivered_at: status === 'delivered' ? finished : null,
  });
  return outcome;
}

/** The request one attempt makes: the channel's body, signed for webhooks. */
function requestFor(
  ctx: DeliveryContext,
  delivery: DeliveryRecord,
  subscription: SubscriptionRecord,
  target: string,
  attempt: number,
): OutboundRequest {
  const publicUrl = ctx.settings.PUBLIC_URL;
  const body = JSON.stringify(
    delivery.channel === 'slack' ? slackPayload(delivery, publicUrl) : webhookPayload(delivery, publicUrl),
  );
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'Integr8sCode-Notifications/1',
  };
  if (delivery.channel === 'webhook') {
    const timestamp = Math.floor(ctx.platform.now().getTime() / 1000);
    headers[DELIVERY_HEADER] = delivery.delivery_id;
    headers[ATTEMPT_HEADER] = String(attempt);
    headers[TIMESTAMP_HEADER] = String(timestamp);
    if (subscription.webhook_secret)
      headers[SIGNATURE_HEADER] = signWebhook(subscription.webhook_secret, timestamp, body);
  }
  return {
    url: target,
    body,
    headers,
    timeoutMs: ctx.settings.NOTIFY_WEBHOOK_TIMEOUT_SECONDS * 1000,
    allow: ctx.allow,
    maxRedirects: MAX_REDIRECTS,
  };
}

/** Attempt `number` is someone else's: still going, or left behind by a sender that stopped. */
async function takeOver(
  ctx: DeliveryContext,
  delivery: DeliveryRecord,
  number: number,
): Promise<DeliveryOutcome> {
  const existing = await ctx.platform.store.notificationDeliveries.getAttempt(delivery.delivery_id, number);
  if (!existing) return 'busy';
  if (existing.outcome === 'in_progress') {
    const limitMs = ctx.settings.NOTIFY_WEBHOOK_TIMEOUT_SECONDS * 1000 + ABANDONED_GRACE_MS;
    if (ctx.platform.now().getTime() - Date.parse(existing.started_at) < limitMs) return 'busy';
    const abandoned: DeliveryAttempt = {
      ...existing,
      outcome: 'abandoned',
      finished_at: nowIso(ctx),
      error: 'the sender stopped before it recorded an outcome (it may have been received)',
    };
    await ctx.platform.store.notificationDeliveries.finishAttempt(abandoned);
    return settle(ctx, delivery, abandoned, { refused: false, permanent: false, retryAfterMs: null });
  }
  // Finished, but its sender stopped before it updated the delivery.
  return settle(ctx, delivery, existing, { refused: false, permanent: false, retryAfterMs: null });
}

/** Decides and, when it is time, makes the next attempt of one due delivery. */
export async function processDelivery(
  ctx: DeliveryContext,
  delivery: DeliveryRecord,
): Promise<DeliveryOutcome> {
  const { store } = ctx.platform;
  const now = ctx.platform.now();
  const [subscription, settings] = await Promise.all([
    store.notificationSubscriptions.get(delivery.user_id, delivery.channel),
    store.userSettings.get(delivery.user_id),
  ]);
  const channels = (settings ?? DEFAULT_PREFERENCES).notifications.channels;
  const target = subscription?.enabled && channels.includes(delivery.channel) ? targetOf(subscription) : null;
  if (!subscription || !target) {
    const cancelled: DeliveryRecord = {
      ...delivery,
      status: 'cancelled',
      next_attempt_at: null,
      held_for: null,
      last_error: `the ${delivery.channel} channel was turned off before the notification was delivered`,
      updated_at: now.toISOString(),
    };
    return (await writeUnlessMoved(ctx, delivery, cancelled)) ? 'cancelled' : 'busy';
  }

  const quietUntil = quietHoursEnd(now, subscription);
  if (quietUntil) return hold(ctx, delivery, quietUntil, 'quiet_hours');
  const windowMs = ctx.settings.NOTIFY_THROTTLE_WINDOW_SECONDS * 1000;
  const recent = await store.notificationDeliveries.attemptTimesSince(
    delivery.user_id,
    delivery.channel,
    new Date(now.getTime() - windowMs).toISOString(),
  );
  const throttled = throttledUntil(recent, ctx.settings.NOTIFY_THROTTLE_MAX, windowMs);
  if (throttled && throttled > now) return hold(ctx, delivery, throttled, 'throttle');

  const number = delivery.attempts + 1;
  const claimed: DeliveryAttempt = {
    delivery_id: delivery.delivery_id,
    attempt: number,
    user_id: delivery.user_id,
    channel: delivery.channel,
    target: originOf(target),
    started_at: now.toISOString(),
    finished_at: null,
    duration_ms: null,
    outcome: 'in_progress',
    status_code: null,
    error: null,
  };
  if (!(await store.notificationDeliveries.beginAttempt(claimed))) return takeOver(ctx, delivery, number);
  const result = await ctx.send(requestFor(ctx, delivery, subscription, target, number));
  const finished: DeliveryAttempt = {
    ...claimed,
    finished_at: nowIso(ctx),
    duration_ms: Math.round(result.durationMs * 10) / 10,
    outcome: result.error === null ? 'succeeded' : 'failed',
    status_code: result.status,
    error: result.error,
  };
  await store.notificationDeliveries.finishAttempt(finished);
  ctx.log[result.error === null ? 'debug' : 'info']('delivery attempt', {
    delivery_id: delivery.delivery_id,
    channel: delivery.channel,
    attempt: number,
    status_code: result.status,
    error: result.error,
  });
  return settle(ctx, delivery, finished, result);
}

export type RunSummary = Partial<Record<DeliveryOutcome, number>>;

/** Due deliveries taken per run; a full batch makes the runner go again at once. */
const BATCH = 100;
/** Users' channels worked on at once; one channel's deliveries go one after another, in due order. */
const PARALLEL_CHANNELS = 8;

/** Works through every delivery due now. */
export async function runDueDeliveries(ctx: DeliveryContext): Promise<RunSummary> {
  const summary: RunSummary = {};
  const due = await ctx.platform.store.notificationDeliveries.listDue(nowIso(ctx), BATCH);
  const queues = new Map<string, DeliveryRecord[]>();
  for (const delivery of due) {
    const key = `${delivery.user_id}\u0000${delivery.channel}`;
    queues.set(key, [...(queues.get(key) ?? []), delivery]);
  }
  const pending = [...queues.values()];
  const work = async () => {
    for (let queue = pending.shift(); queue; queue = pending.shift()) {
      for (const delivery of queue) {
        let outcome: DeliveryOutcome;
        try {
          outcome = await processDelivery(ctx, delivery);
        } catch (error) {
          // The store failed mid-way; the delivery is still pending (or its attempt gets taken over).
          ctx.log.warn('a delivery could not be processed; it is tried again later', {
            delivery_id: delivery.delivery_id,
            error,
          });
          outcome = 'busy';
        }
        summary[outcome] = (summary[outcome] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_CHANNELS, pending.length) }, work));
  if (due.length === BATCH) {
    const more = await runDueDeliveries(ctx);
    for (const [outcome, count] of Object.entries(more) as [DeliveryOutcome, number][])
      summary[outcome] = (summary[outcome] ?? 0) + count;
  }
  return summary;
}

/** Never wake more often than this, however close the next due delivery is. */
const MIN_WAKE_MS = 10;

/**
 * Runs due deliveries when kicked, and by itself at the next due time it knows of and every poll
 * interval. Kicks during a run make it go once more afterwards instead of running twice at once.
 */
export class DeliveryRunner {
  private running: Promise<RunSummary> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(readonly context: DeliveryContext) {}

  kick(): Promise<RunSummary> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = async (): Promise<RunSummary> => {
      const summary: RunSummary = {};
      do {
        this.again = false;
        for (const [outcome, count] of Object.entries(await runDueDeliveries(this.context)))
          summary[outcome as DeliveryOutcome] = (summary[outcome as DeliveryOutcome] ?? 0) + count;
      } while (this.again && !this.stopped);
      return summary;
    };
    this.running = run()
      .catch((error) => {
        this.context.log.warn('looking for due deliveries failed; the next run tries again', { error });
        return {};
      })
      .finally(() => {
        this.running = null;
        // A kick that came as the last run was finishing is answered now, not at the next timer.
        if (this.again && !this.stopped) void this.kick();
        else void this.schedule();
      });
    return this.running;
  }

  /** Sets the timer for the next due delivery or the poll interval, whichever comes first. */
  private async schedule(): Promise<void> {
    const pollMs = this.context.settings.NOTIFY_DELIVERY_POLL_SECONDS * 1000;
    if (this.stopped || pollMs === 0) return;
    let wait = pollMs;
    try {
      const next = await this.context.platform.store.notificationDeliveries.nextDue();
      if (next) wait = Math.min(wait, Date.parse(next) - this.context.platform.now().getTime());
    } catch {
      // The store is away; the poll interval tries again.
    }
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.kick(), Math.max(MIN_WAKE_MS, wait));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

/** One runner per store: every app a process builds on it shares the runner and its timer. */
const runners = new WeakMap<object, DeliveryRunner>();

export function deliveryRunnerFor(platform: Platform): DeliveryRunner {
  let runner = runners.get(platform.store);
  if (!runner) {
    runner = new DeliveryRunner(deliveryContext(platform));
    runners.set(platform.store, runner);
    // Deliveries left pending by an earlier process (a restart, a crash) are picked up at once.
    void runner.kick();
  }
  return runner;
}
