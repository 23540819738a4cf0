import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { routeMatches } from '../../shared/platform/function';
import { aDelivery, anAttempt } from '../../shared/store/contracts/notification-deliveries.contract';
import { authHeaders, type RequestableApp, registerAndLogin } from '../../test/support/http';
import { createTestPlatform } from '../../test/support/platform';
import { authFunction } from '../auth/index';
import { userSettingsFunction } from '../user-settings/index';
import { notificationsFunction } from './index';

type TestPlatform = Awaited<ReturnType<typeof createTestPlatform>>;
type Session = Awaited<ReturnType<typeof registerAndLogin>>;

const ORIGIN = 'http://localhost';
const BASE = '/api/v1/notifications';
/** Every field the reference's `NotificationSubscription` requires, plus our `webhook_secret`. */
const SUBSCRIPTION_FIELDS = [
  'user_id',
  'channel',
  'severities',
  'include_tags',
  'exclude_tags',
  'enabled',
  'webhook_url',
  'slack_webhook',
  'quiet_hours_enabled',
  'quiet_hours_start',
  'quiet_hours_end',
  'timezone',
  'batch_interval_minutes',
  'created_at',
  'updated_at',
  'webhook_secret',
].sort();

let platform: TestPlatform;
let gateway: RequestableApp;
let alice: Session;
let bob: Session;

beforeAll(async () => {
  platform = await createTestPlatform({ NOTIFY_ALLOWED_HOSTS: '127.0.0.1,hooks.internal.test' });
  const apps = [authFunction, userSettingsFunction, notificationsFunction].map((fn) => ({
    fn,
    app: fn.createApp(platform),
  }));
  gateway = {
    request: (input, init) => {
      const path = new URL(input, ORIGIN).pathname;
      const target = apps.find(({ fn }) => fn.routes.some((prefix) => routeMatches(prefix, path)))!;
      return target.app.request(input, init);
    },
  };
  alice = await registerAndLogin(gateway);
  bob = await registerAndLogin(gateway);
});

beforeEach(async () => {
  for (const { userId } of [alice, bob]) {
    await platform.store.notificationSubscriptions.deleteForUser(userId);
    await platform.store.notificationDeliveries.deleteForUser(userId);
  }
});

afterAll(async () => {
  await platform.close();
});

interface Subscription {
  channel: string;
  enabled: boolean;
  webhook_url: string | null;
  slack_webhook: string | null;
  webhook_secret: string | null;
  [field: string]: unknown;
}

const getSubscriptions = (session?: Session) =>
  gateway.request(`${BASE}/subscriptions`, { headers: session ? authHeaders(session) : {} });

const put = (channel: string, body: unknown, headers: Record<string, string> = authHeaders(alice)) =>
  gateway.request(`${BASE}/subscriptions/${channel}`, {
    method: 'PUT',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function subscriptionsOf(session: Session): Promise<Subscription[]> {
  const response = await getSubscriptions(session);
  expect(response.status).toBe(200);
  return ((await response.json()) as { subscriptions: Subscription[] }).subscriptions;
}

async function saved(channel: string, body: unknown): Promise<Subscription> {
  const response = await put(channel, body);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Subscription;
}

async function expectIssue(response: Response, loc: (string | number)[], msg?: RegExp): Promise<void> {
  expect(response.status).toBe(422);
  const { detail } = (await response.json()) as { detail: { loc: (string | number)[]; msg: string }[] };
  const issue = detail.find((entry) => JSON.stringify(entry.loc) === JSON.stringify(loc));
  expect(issue, JSON.stringify(detail)).toBeDefined();
  if (msg) expect(issue!.msg).toMatch(msg);
}

describe('GET /api/v1/notifications/subscriptions', () => {
  it('lists one subscription per channel, defaults for those never saved, in the reference shape', async () => {
    const response = await getSubscriptions(alice);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, no-cache');
    const { subscriptions } = (await response.json()) as { subscriptions: Subscription[] };
    expect(subscriptions.map((s) => s.channel)).toEqual(['in_app', 'webhook', 'slack']);
    for (const subscription of subscriptions) {
      expect(Object.keys(subscription).sort()).toEqual(SUBSCRIPTION_FIELDS);
      expect(subscription).toMatchObject({
        user_id: alice.userId,
        severities: [],
        include_tags: [],
        exclude_tags: [],
        quiet_hours_enabled: false,
        timezone: 'UTC',
        batch_interval_minutes: 60,
        webhook_secret: null,
      });
    }
    // A webhook or Slack channel without a target cannot deliver, so it starts off.
    expect(subscriptions.map((s) => s.enabled)).toEqual([true, false, false]);
  });

  it("takes a new channel's time zone from the user's settings", async () => {
    const changed = await gateway.request('/api/v1/user/settings/', {
      method: 'PUT',
      headers: { ...authHeaders(bob), 'Content-Type': 'application/json' },
      body: JSON.stringify({ timezone: 'Asia/Tokyo' }),
    });
    expect(changed.status).toBe(200);
    expect((await subscriptionsOf(bob)).map((s) => s.timezone)).toEqual([
      'Asia/Tokyo',
      'Asia/Tokyo',
      'Asia/Tokyo',
    ]);
  });

  it('shows each user only their own subscriptions', async () => {
    await saved('webhook', { enabled: true, webhook_url: 'https://hooks.example.com/alice' });
    const bobs = await subscriptionsOf(bob);
    expect(bobs.every((s) => s.user_id === bob.userId)).toBe(true);
    expect(bobs.find((s) => s.channel === 'webhook')).toMatchObject({ enabled: false, webhook_url: null });
  });

  it('needs a signed-in user', async () => {
    expect((await getSubscriptions()).status).toBe(401);
  });
});

describe('PUT /api/v1/notifications/subscriptions/{channel}', () => {
  it('saves a webhook subscription with a signing secret made by the server, kept until rotated', async () => {
    const first = await saved('webhook', {
      enabled: true,
      webhook_url: 'https://hooks.example.com/integr8s',
      severities: ['high', 'urgent', 'high'],
      include_tags: ['execution'],
      exclude_tags: ['cancelled'],
      quiet_hours_enabled: true,
      quiet_hours_start: '22:00',
      quiet_hours_end: '07:00',
      timezone: 'europe/berlin',
    });
    expect(Object.keys(first).sort()).toEqual(SUBSCRIPTION_FIELDS);
    expect(first).toMatchObject({
      user_id: alice.userId,
      channel: 'webhook',
      enabled: true,
      webhook_url: 'https://hooks.example.com/integr8s',
      slack_webhook: null,
      severities: ['high', 'urgent'],
      include_tags: ['execution'],
      exclude_tags: ['cancelled'],
      quiet_hours_enabled: true,
      quiet_hours_start: '22:00',
      quiet_hours_end: '07:00',
      timezone: 'Europe/Berlin',
    });
    expect(first.webhook_secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect((await subscriptionsOf(alice))[1]).toEqual(first);

    const again = await saved('webhook', { enabled: true });
    expect(again.webhook_secret).toBe(first.webhook_secret);
    expect(again.created_at).toBe(first.created_at);
    const rotated = await saved('webhook', { enabled: true, rotate_secret: true });
    expect(rotated.webhook_secret).toMatch(/^whsec_/);
    expect(rotated.webhook_secret).not.toBe(first.webhook_secret);
  });

  it('keeps what a request leaves out, so a channel is turned off without losing its URL', async () => {
    const on = await saved('slack', {
      enabled: true,
      slack_webhook: 'https://hooks.slack.com/services/T000/B000/XXXX',
      severities: ['urgent'],
    });
    expect(on.webhook_secret).toBeNull();
    const off = await saved('slack', { enabled: false });
    expect(off).toMatchObject({
      enabled: false,
      slack_webhook: 'https://hooks.slack.com/services/T000/B000/XXXX',
      severities: ['urgent'],
    });
    const cleared = await saved('slack', { enabled: false, slack_webhook: null, severities: [] });
    expect(cleared).toMatchObject({ slack_webhook: null, severities: [] });
  });

  it('turns in-app notifications off and on with the reference fields only', async () => {
    expect(await saved('in_app', { enabled: false })).toMatchObject({ channel: 'in_app', enabled: false });
    expect((await subscriptionsOf(alice))[0]).toMatchObject({ enabled: false });
    expect(await saved('in_app', { enabled: true, batch_interval_minutes: 15 })).toMatchObject({
      enabled: true,
      batch_interval_minutes: 15,
    });
  });

  it('accepts plain http and private addresses only for hosts on the operator allow-list', async () => {
    expect(await saved('webhook', { enabled: true, webhook_url: 'http://127.0.0.1:9/hook' })).toMatchObject({
      webhook_url: 'http://127.0.0.1:9/hook',
    });
    expect(
      await saved('slack', { enabled: true, slack_webhook: 'https://hooks.internal.test/services/x' }),
    ).toMatchObject({ slack_webhook: 'https://hooks.internal.test/services/x' });
    await expectIssue(await put('webhook', { enabled: true, webhook_url: 'http://127.0.0.2/hook' }), [
      'body',
      'webhook_url',
    ]);
  });

  it.each([
    ['missing enabled', 'webhook', {}, ['body', 'enabled'], /enabled/],
    ['enabling a webhook without a URL', 'webhook', { enabled: true }, ['body', 'webhook_url'], /required/],
    ['enabling Slack without a URL', 'slack', { enabled: true }, ['body', 'slack_webhook'], /required/],
    [
      'a plain http URL',
      'webhook',
      { enabled: true, webhook_url: 'http://hooks.example.com/x' },
      ['body', 'webhook_url'],
      /https/,
    ],
    [
      'a private address',
      'webhook',
      { enabled: true, webhook_url: 'https://10.1.2.3/x' },
      ['body', 'webhook_url'],
      /private/,
    ],
    [
      'the metadata address',
      'webhook',
      { enabled: true, webhook_url: 'https://169.254.169.254/latest/meta-data' },
      ['body', 'webhook_url'],
      /private/,
    ],
    [
      'the metadata address written as IPv4-mapped IPv6',
      'webhook',
      { enabled: true, webhook_url: 'https://[::ffff:a9fe:a9fe]/x' },
      ['body', 'webhook_url'],
      /private/,
    ],
    [
      'localhost',
      'webhook',
      { enabled: true, webhook_url: 'https://localhost/x' },
      ['body', 'webhook_url'],
      /this machine/,
    ],
    [
      'credentials in the URL',
      'webhook',
      { enabled: true, webhook_url: 'https://user:pw@hooks.example.com/' },
      ['body', 'webhook_url'],
      /user name/,
    ],
    [
      'not a URL',
      'webhook',
      { enabled: true, webhook_url: 'hooks.example.com' },
      ['body', 'webhook_url'],
      /absolute/,
    ],
    [
      'a Slack URL elsewhere than Slack',
      'slack',
      { enabled: true, slack_webhook: 'https://example.com/services/x' },
      ['body', 'slack_webhook'],
      /Slack incoming webhook/,
    ],
    [
      'a webhook URL on the Slack channel',
      'slack',
      { enabled: false, webhook_url: 'https://hooks.example.com/' },
      ['body', 'webhook_url'],
      /webhook channel only/,
    ],
    [
      'rotating a secret on Slack',
      'slack',
      { enabled: false, rotate_secret: true },
      ['body', 'rotate_secret'],
      /webhook/,
    ],
    [
      'an unknown severity',
      'in_app',
      { enabled: true, severities: ['critical'] },
      ['body', 'severities', 0],
      /one of/,
    ],
    ['an empty tag', 'in_app', { enabled: true, include_tags: [''] }, ['body', 'include_tags', 0], /empty/],
    [
      'quiet hours without times',
      'in_app',
      { enabled: true, quiet_hours_enabled: true, quiet_hours_start: '22:00' },
      ['body', 'quiet_hours_end'],
      /required/,
    ],
    [
      'a time of day out of range',
      'in_app',
      { enabled: true, quiet_hours_start: '24:00' },
      ['body', 'quiet_hours_start'],
      /HH:MM/,
    ],
    [
      'quiet hours of no length',
      'in_app',
      { enabled: true, quiet_hours_enabled: true, quiet_hours_start: '08:00', quiet_hours_end: '08:00' },
      ['body', 'quiet_hours_end'],
      /differ/,
    ],
    [
      'an unknown time zone',
      'in_app',
      { enabled: true, timezone: 'Mars/Olympus_Mons' },
      ['body', 'timezone'],
      /IANA/,
    ],
    [
      'a batch interval of 0',
      'in_app',
      { enabled: true, batch_interval_minutes: 0 },
      ['body', 'batch_interval_minutes'],
      /at least/,
    ],
    ['a body that is not an object', 'in_app', [true], ['body'], /object/],
  ])('answers 422 for %s, naming the field', async (_what, channel, body, loc, msg) => {
    await expectIssue(await put(channel, body), loc, msg);
    // Nothing was saved.
    expect((await subscriptionsOf(alice)).find((s) => s.channel === channel)?.updated_at).toBe(
      (await subscriptionsOf(alice)).find((s) => s.channel === channel)?.created_at,
    );
  });

  it('answers 422 for malformed JSON', async () => {
    await expectIssue(await put('webhook', '{"enabled": tru'), ['body'], /Malformed JSON/);
  });

  it('answers 422 for a channel that does not exist, as the reference does for its enum', async () => {
    await expectIssue(await put('email', { enabled: true }), ['path', 'channel'], /in_app, webhook, slack/);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    expect((await put('in_app', { enabled: false }, {})).status).toBe(401);
    expect((await put('in_app', { enabled: false }, { Cookie: alice.cookie })).status).toBe(403);
    expect((await subscriptionsOf(alice))[0]).toMatchObject({ enabled: true });
  });
});

describe('GET /api/v1/notifications/deliveries', () => {
  const log = async (query = '', session: Session = alice) => {
    const response = await gateway.request(`${BASE}/deliveries${query}`, { headers: authHeaders(session) });
    expect(response.status).toBe(200);
    return (await response.json()) as {
      deliveries: { delivery_id: string; attempts: Record<string, unknown>[]; [field: string]: unknown }[];
      total: number;
    };
  };

  it("lists the caller's deliveries newest first with every attempt, and no one else's", async () => {
    const older = aDelivery({
      delivery_id: 'd-old',
      user_id: alice.userId,
      status: 'delivered',
      attempts: 3,
      next_attempt_at: null,
      created_at: '2025-03-01T10:00:00.000Z',
    });
    const newer = aDelivery({
      delivery_id: 'd-new',
      user_id: alice.userId,
      channel: 'slack',
      created_at: '2025-03-01T11:00:00.000Z',
    });
    await platform.store.notificationDeliveries.create(older);
    await platform.store.notificationDeliveries.create(newer);
    await platform.store.notificationDeliveries.create(
      aDelivery({ delivery_id: 'd-bob', user_id: bob.userId }),
    );
    for (const [attempt, status] of [
      [1, 503],
      [2, 500],
      [3, 204],
    ] as const)
      await platform.store.notificationDeliveries.beginAttempt(
        anAttempt({
          delivery_id: 'd-old',
          user_id: alice.userId,
          attempt,
          outcome: status === 204 ? 'succeeded' : 'failed',
          status_code: status,
          error: status === 204 ? null : `HTTP ${status}`,
        }),
      );

    const body = await log();
    expect(body.total).toBe(2);
    expect(body.deliveries.map((d) => d.delivery_id)).toEqual(['d-new', 'd-old']);
    expect(body.deliveries[1]).toMatchObject({
      channel: 'webhook',
      status: 'delivered',
      subject: older.message.subject,
      severity: 'high',
    });
    expect(body.deliveries[1]!.attempts.map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
      [1, 503, 'failed'],
      [2, 500, 'failed'],
      [3, 204, 'succeeded'],
    ]);
    expect(body.deliveries[1]!.attempts[0]).not.toHaveProperty('user_id');
    expect((await log('?channel=slack')).deliveries.map((d) => d.delivery_id)).toEqual(['d-new']);
    expect((await log('?limit=1&offset=1')).deliveries.map((d) => d.delivery_id)).toEqual(['d-old']);
    expect((await log('', bob)).deliveries.map((d) => d.delivery_id)).toEqual(['d-bob']);
  });

  it('answers 422 for a channel without deliveries and 401 without a session', async () => {
    await expectIssue(
      await gateway.request(`${BASE}/deliveries?channel=in_app`, { headers: authHeaders(alice) }),
      ['query', 'channel'],
    );
    expect((await gateway.request(`${BASE}/deliveries`)).status).toBe(401);
  });
});
