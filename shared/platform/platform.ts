/**
 * Everything a function needs from the outside world, as ports. The embedded default and the
 * real stack build one of these from different adapters; function code cannot tell them apart.
 */
import type { EventBus } from '../bus/port';
import type { Config } from '../config/config';
import type { EventPublisher } from '../events/publisher';
import type { Fanout } from '../fanout/port';
import type { KeyValueStore } from '../kv/port';
import type { Logger } from '../log';
import type { Sandbox } from '../sandbox/port';
import type { Repositories } from '../store/ports';

/** Reported in every event's metadata. */
export const SERVICE_VERSION = '0.1.0';

export interface Platform {
  config: Config;
  /** HMAC key for CSRF tokens. */
  secretKey: string;
  store: Repositories;
  kv: KeyValueStore;
  fanout: Fanout;
  bus: EventBus;
  events: EventPublisher;
  sandbox: Sandbox;
  log: Logger;
  /** Injected so tests can move time. */
  now(): Date;
}
