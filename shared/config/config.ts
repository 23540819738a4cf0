/**
 * Configuration from the environment, validated once at start. A bad value stops the process with a
 * message naming the variable, the value and what is expected.
 */
import * as v from 'valibot';
import { cidrOf } from '../http/ip-addresses';
import { isAllowListEntry } from '../http/outbound-guard';

const int = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.minValue(min),
    v.maxValue(max),
  );

const bool = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.picklist(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false'),
  v.transform((s) => s === 'true' || s === '1' || s === 'yes'),
);

const UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
/** Kubernetes-style byte quantity: 128Mi, 1Gi, 65536. */
export const bytes = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^\d+(Ki|Mi|Gi)?$/, 'must be a size such as 128Mi, 1Gi or a byte count'),
  v.transform((s) => {
    const [, n, unit = ''] = /^(\d+)(Ki|Mi|Gi)?$/.exec(s)!;
    return Number(n) * UNITS[unit]!;
  }),
);
/** Kubernetes-style CPU quantity: 500m or 1. */
const cpu = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^(\d+m|\d+(\.\d+)?)$/, 'must be a CPU quantity such as 500m or 1'),
);

const ConfigSchema = v.object({
  PORT: v.optional(int(0, 65535), '8080'),
  HOST: v.optional(v.pipe(v.string(), v.minLength(1)), '127.0.0.1'),
  DATA_DIR: v.optional(v.pipe(v.string(), v.minLength(1)), '.data'),
  /** The built SPA; served by the embedded server when present. */
  WEB_ROOT: v.optional(v.pipe(v.string(), v.minLength(1)), 'web/dist'),
  /** Signs CSRF tokens. Generated and kept under DATA_DIR when unset. */
  SECRET_KEY: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters'))),
  ADMIN_USERNAME: v.optional(v.string()),
  ADMIN_PASSWORD: v.optional(v.pipe(v.string(), v.minLength(8, 'must be at least 8 characters'))),
  ADMIN_EMAIL: v.optional(v.pipe(v.string(), v.email('must be an email address'))),
  DEMO_ACCOUNT: v.optional(bool, 'true'),
  LOG_LEVEL: v.optional(v.picklist(['debug', 'info', 'warn', 'error', 'silent']), 'info'),
  SESSION_TIMEOUT_MINUTES: v.optional(int(5, 43_200), '1440'),
  COOKIE_SECURE: v.optional(bool, 'true'),
  PASSWORD_MIN_LENGTH: v.optional(int(8, 72), '8'),
  MAX_LOGIN_ATTEMPTS: v.optional(int(3, 100), '5'),
  LOCKOUT_MINUTES: v.optional(int(1, 1440), '15'),
  RATE_LIMIT_ENABLED: v.optional(bool, 'true'),
  /** Submissions per minute per user (or per IP when signed out). */
  RATE_LIMIT_EXECUTIONS_PER_MINUTE: v.optional(int(1, 1_000_000), '60'),
  /**
   * Comma-separated addresses and CIDR blocks of proxies whose X-Forwarded-For is believed (the stack's
   * gateway; on Knative the queue-proxy at 127.0.0.1 and the ingress). Empty: the socket's peer is the client.
   */
  TRUSTED_PROXIES: v.optional(
    v.pipe(
      v.string(),
      v.transform((s) =>
        s
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ''),
      ),
      v.check(
        (entries) => entries.every((entry) => cidrOf(entry) !== null),
        'must be IP addresses or CIDR blocks, comma-separated',
      ),
    ),
    '',
  ),
  MAX_BODY_BYTES: v.optional(bytes, '1Mi'),
  /** `embedded`: SQLite and in-process bus/fan-out. `stack`: MongoDB, Redis and Kafka at the URLs below. */
  PLATFORM: v.optional(v.picklist(['embedded', 'stack'], 'must be embedded or stack'), 'embedded'),
  MONGO_URL: v.optional(v.pipe(v.string(), v.regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL'))),
  REDIS_URL: v.optional(v.pipe(v.string(), v.regex(/^rediss?:\/\//, 'must be a redis:// URL'))),
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'must be host:port[,host:port...]'),
      v.transform((s) => s.split(',')),
    ),
  ),
  /** `local`: bubblewrap on this machine. `kubernetes`: one hardened pod per execution. */
  SANDBOX_BACKEND: v.optional(v.picklist(['local', 'kubernetes'], 'must be local or kubernetes'), 'local'),
  /** Kubernetes backend: the namespace executor pods run in; `default` is refused. */
  KUBERNETES_NAMESPACE: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name'),
      v.check(
        (name) => name !== 'default',
        'must not be default: executor pods need a namespace of their own',
      ),
    ),
    'integr8scode-executions',
  ),
  /** Kubernetes backend: a kubeconfig file; unset, the pod's own service account is used. */
  KUBECONFIG: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Kubernetes backend: JSON file of runtimes (language, version, image pinned by digest, command). */
  KUBERNETES_RUNTIMES_FILE: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Kubernetes backend: the RuntimeClass of executor pods (gVisor's `gvisor`, say); the cluster default when unset. */
  KUBERNETES_RUNTIME_CLASS: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/, 'must be a RuntimeClass name such as gvisor'),
    ),
  ),
  /**
   * monitor, Kubernetes backend: where executor pod changes come from. `watch`: the process lists and
   * watches the pods itself and sweeps orphans (stack and embedded). `apiserversource`: Knative's
   * ApiServerSource POSTs them to `/`, and the process does nothing between requests (scale to zero).
   */
  MONITOR_POD_EVENTS: v.optional(
    v.picklist(['watch', 'apiserversource'], 'must be watch or apiserversource'),
    'watch',
  ),
  /** monitor: every watched pod is looked at again this often, changed or not (seconds). */
  MONITOR_RESYNC_SECONDS: v.optional(int(1, 3600), '30'),
  MONITOR_SWEEP_INTERVAL_SECONDS: v.optional(int(1, 86_400), '60'),
  /** monitor: how long past its deadline a pod or ConfigMap may stay before the sweeper removes it. */
  MONITOR_SWEEP_GRACE_SECONDS: v.optional(int(0, 86_400), '60'),
  /** monitor: how long a container may fail to start (image pull) before its run ends as a system error. */
  MONITOR_START_GRACE_SECONDS: v.optional(int(0, 3600), '60'),
  /** Runs scripts without isolation when no sandbox can be set up. Never use on a shared machine. */
  UNSAFE_ALLOW_UNSANDBOXED: v.optional(bool, 'false'),
  EXECUTION_TIMEOUT_SECONDS: v.optional(int(1, 3600), '30'),
  CPU_LIMIT: v.optional(cpu, '1000m'),
  CPU_REQUEST: v.optional(cpu, '200m'),
  MEMORY_LIMIT: v.optional(bytes, '128Mi'),
  MEMORY_REQUEST: v.optional(bytes, '128Mi'),
  MAX_PROCESSES: v.optional(int(1, 4096), '64'),
  TMP_SIZE: v.optional(bytes, '16Mi'),
  OUTPUT_LIMIT: v.optional(bytes, '1Mi'),
  MAX_CONCURRENT_EXECUTIONS: v.optional(int(1, 1000), '8'),
  SSE_HEARTBEAT_SECONDS: v.optional(int(1, 300), '15'),
  /** Streams close before this so a proxy or Knative's request timeout never cuts them. */
  SSE_MAX_STREAM_SECONDS: v.optional(int(10, 3600), '540'),
  /** Where users open the web app (https://code.example.com); makes links in webhook and Slack messages absolute. */
  PUBLIC_URL: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'must be an http(s) URL without query or fragment'),
      v.transform((url) => url.replace(/\/+$/, '')),
    ),
  ),
  /**
   * notify: hosts webhook and Slack deliveries may reach although they are private, loopback or
   * link-local, and may reach over plain http: comma-separated IP addresses, CIDR ranges (10.0.0.0/8,
   * fd00::/8), host names and `*.suffix` patterns. Everything else must be public and https.
   */
  NOTIFY_ALLOWED_HOSTS: v.optional(
    v.pipe(
      v.string(),
      v.transform((list) =>
        list
          .split(',')
          .map((entry) => entry.trim().toLowerCase())
          .filter(Boolean),
      ),
      v.check(
        (entries) => entries.every(isAllowListEntry),
        'must list IP addresses, CIDR ranges, host names or *.suffix patterns, separated by commas',
      ),
    ),
    '',
  ),
  /** notify: how long one webhook or Slack request may take (seconds). */
  NOTIFY_WEBHOOK_TIMEOUT_SECONDS: v.optional(int(1, 120), '10'),
  /** notify: attempts per delivery, the first one included. */
  NOTIFY_RETRY_ATTEMPTS: v.optional(int(1, 50), '5'),
  /** notify: the wait after the first failed attempt; it doubles after each further one (ms). */
  NOTIFY_RETRY_BASE_DELAY_MS: v.optional(int(10, 86_400_000), '10000'),
  /** notify: the longest wait between two attempts (ms). */
  NOTIFY_RETRY_MAX_DELAY_MS: v.optional(int(10, 86_400_000), '3600000'),
  /** notify: requests per user and channel within NOTIFY_THROTTLE_WINDOW_SECONDS; the rest wait their turn. */
  NOTIFY_THROTTLE_MAX: v.optional(int(1, 100_000), '30'),
  NOTIFY_THROTTLE_WINDOW_SECONDS: v.optional(int(1, 86_400), '60'),
  /**
   * notify: how often the process looks for due deliveries besides waking for the next one it knows of
   * (seconds; 0: never by itself, only when an event or Knative's PingSource arrives).
   */
  NOTIFY_DELIVERY_POLL_SECONDS: v.optional(int(0, 3600), '30'),
});

export type Config = v.InferOutput<typeof ConfigSchema>;

/** What notify's deliveries to webhook and Slack are tuned by. */
export type DeliverySettings = Pick<
  Config,
  | 'PUBLIC_URL'
  | 'NOTIFY_ALLOWED_HOSTS'
  | 'NOTIFY_WEBHOOK_TIMEOUT_SECONDS'
  | 'NOTIFY_RETRY_ATTEMPTS'
  | 'NOTIFY_RETRY_BASE_DELAY_MS'
  | 'NOTIFY_RETRY_MAX_DELAY_MS'
  | 'NOTIFY_THROTTLE_MAX'
  | 'NOTIFY_THROTTLE_WINDOW_SECONDS'
  | 'NOTIFY_DELIVERY_POLL_SECONDS'
>;

/** What monitor's Kubernetes side is tuned by. */
export type MonitorSettings = Pick<
  Config,
  | 'MONITOR_POD_EVENTS'
  | 'MONITOR_RESYNC_SECONDS'
  | 'MONITOR_SWEEP_INTERVAL_SECONDS'
  | 'MONITOR_SWEEP_GRACE_SECONDS'
  | 'MONITOR_START_GRACE_SECONDS'
>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.entries)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = v.safeParse(ConfigSchema, input);
  if (result.success) return result.output;
  const lines = result.issues.map((issue) => {
    const key = v.getDotPath(issue) ?? '?';
    return `  ${key}=${JSON.stringify(input[key] ?? '')}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** For process entry points: the configuration, or exit with the message when it is invalid. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}

/** CPU quantity in millicores. */
export const millicores = (quantity: string): number =>
  quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);

export const formatBytes = (n: number): string =>
  n % 1024 ** 3 === 0
    ? `${n / 1024 ** 3}Gi`
    : n % 1024 ** 2 === 0
      ? `${n / 1024 ** 2}Mi`
      : n % 1024 === 0
        ? `${n / 1024}Ki`
        : `${n}`;
