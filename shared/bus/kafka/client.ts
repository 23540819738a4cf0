/** One way to build a kafkajs client: loopback-friendly timeouts and its log lines in our structured log. */
import { Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { Logger } from '../../log';

export interface KafkaConnection {
  /** `host:port` of at least one broker. */
  brokers: readonly string[];
  clientId?: string;
  log: Logger;
}

export function createKafka(connection: KafkaConnection): Kafka {
  const log = connection.log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: connection.clientId ?? 'integr8scode',
    brokers: [...connection.brokers],
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    logLevel: logLevel.INFO,
    logCreator: () => (entry: LogEntry) => writeEntry(log, entry),
  });
}

/**
 * kafkajs INFO lines are per-rebalance chatter (pausing, joining); they stay at debug here. Its
 * connection layer logs every error response at ERROR and then hands the same error to the caller, who
 * retries or reports it, so those lines are warnings.
 */
function writeEntry(log: Logger, entry: LogEntry): void {
  const { message, ...fields } = entry.log;
  const record = { ...fields, namespace: entry.namespace };
  if (entry.level === logLevel.ERROR && entry.namespace !== 'Connection') log.error(message, record);
  else if (entry.level === logLevel.ERROR) log.warn(message, record);
  else if (entry.level === logLevel.WARN) log.warn(message, record);
  else log.debug(message, record);
}
