/**
 * System settings an administrator changes at run time: execution limits, the number of executions run
 * at once, password policy, session length and login lockout. Until changed they are the deployment's
 * configuration; a change applies across every function within seconds (shared/config/effective-settings.ts).
 * Logging, tracing and metrics retention belong to the deployment (its environment) and cannot change
 * here: they are reported, and a request to change them is refused.
 */
import * as v from 'valibot';
import { bytes, type Config, formatBytes, millicores } from '../config/config';

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
const LOG_LEVEL_OF: Record<Config['LOG_LEVEL'], (typeof LOG_LEVELS)[number]> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  silent: 'CRITICAL',
};

const MiB = 1024 ** 2;
const integer = (min: number, max: number) =>
  v.pipe(
    v.number(),
    v.integer(),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

const MemoryLimit = v.pipe(
  v.string(),
  v.check((text) => v.is(bytes, text), 'must be a size such as 512Mi or 1Gi'),
  v.check((text) => {
    // Checks run even after an earlier one failed: a text that is no size is not out of range either.
    const size = v.safeParse(bytes, text);
    return !size.success || (size.output >= 16 * MiB && size.output <= 16 * 1024 * MiB);
  }, 'must be between 16Mi and 16Gi'),
);
const CpuLimit = v.pipe(
  v.string(),
  v.regex(/^(\d+m|\d+(\.\d+)?)$/, 'must be a CPU quantity such as 500m or 2'),
  v.check((text) => {
    const cores = millicores(text);
    return Number.isNaN(cores) || (cores >= 100 && cores <= 16_000);
  }, 'must be between 100m and 16'),
);

export const SystemSettingsSchema = v.object({
  max_timeout_seconds: integer(1, 3600),
  memory_limit: MemoryLimit,
  cpu_limit: CpuLimit,
  max_concurrent_executions: integer(1, 100),
  password_min_length: integer(8, 32),
  session_timeout_minutes: integer(5, 1440),
  max_login_attempts: integer(3, 10),
  lockout_duration_minutes: integer(5, 60),
  metrics_retention_days: integer(7, 90),
  log_level: v.picklist(LOG_LEVELS),
  enable_tracing: v.boolean(),
  sampling_rate: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
});
export type SystemSettings = v.InferOutput<typeof SystemSettingsSchema>;

/** A change: any of the fields; absent ones keep their value. */
export const SystemSettingsUpdateSchema = v.partial(SystemSettingsSchema);

/** Fields the deployment decides, with where to change them. */
export const DEPLOYMENT_FIELDS = {
  metrics_retention_days: 'the metrics backend',
  log_level: 'LOG_LEVEL',
  enable_tracing: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  sampling_rate: 'OTEL_TRACES_SAMPLER_ARG',
} as const satisfies Partial<Record<keyof SystemSettings, string>>;

/** The settings as the deployment's configuration sets them. */
export function configuredSettings(config: Config): SystemSettings {
  return {
    max_timeout_seconds: config.EXECUTION_TIMEOUT_SECONDS,
    memory_limit: formatBytes(config.MEMORY_LIMIT),
    cpu_limit: config.CPU_LIMIT,
    max_concurrent_executions: config.MAX_CONCURRENT_EXECUTIONS,
    password_min_length: config.PASSWORD_MIN_LENGTH,
    session_timeout_minutes: config.SESSION_TIMEOUT_MINUTES,
    max_login_attempts: config.MAX_LOGIN_ATTEMPTS,
    lockout_duration_minutes: config.LOCKOUT_MINUTES,
    metrics_retention_days: 30,
    log_level: LOG_LEVEL_OF[config.LOG_LEVEL],
    enable_tracing: Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT),
    sampling_rate: 1,
  };
}
