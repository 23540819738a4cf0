/**
 * Event exports as text chunks, read from the store a page at a time in stored order, so an export of
 * 50,000 events never sits in memory whole and paging neither skips nor repeats while events arrive.
 */
import type { DomainEvent } from '../../shared/events/schemas';
import type { EventFilter, EventStore } from '../../shared/store/ports';
import type { ExportFormat } from './requests';

export type { ExportFormat } from './requests';

const PAGE = 500;

export const CSV_COLUMNS = [
  'event_id',
  'event_type',
  'timestamp',
  'aggregate_id',
  'user_id',
  'service_name',
  'event_json',
] as const;

/**
 * One CSV field: quoted when it holds a separator, quote or line break; a leading = + - @ is
 * prefixed with ' so a spreadsheet shows it as text rather than running it as a formula.
 */
export function csvField(value: string | null | undefined): string {
  let text = value ?? '';
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const csvRow = (event: DomainEvent) =>
  `${[
    event.event_id,
    event.event_type,
    event.timestamp,
    event.aggregate_id,
    event.metadata.user_id,
    event.metadata.service_name,
    JSON.stringify(event),
  ]
    .map(csvField)
    .join(',')}\r\n`;

async function* matching(events: EventStore, filter: EventFilter, limit: number) {
  let afterSeq = 0;
  let left = limit;
  while (left > 0) {
    const page = await events.select(filter, { afterSeq, limit: Math.min(PAGE, left) });
    for (const stored of page) yield stored.event;
    if (page.length < Math.min(PAGE, left)) return;
    left -= page.length;
    afterSeq = page.at(-1)!.seq;
  }
}

/**
 * The export's text. JSON: the header's fields, then `events`, then how many were written;
 * CSV: a header row, then a row per event.
 */
export async function* exportChunks(
  events: EventStore,
  filter: EventFilter,
  format: ExportFormat,
  limit: number,
  header: Record<string, unknown>,
): AsyncGenerator<string> {
  if (format === 'csv') {
    yield `${CSV_COLUMNS.join(',')}\r\n`;
    for await (const event of matching(events, filter, limit)) yield csvRow(event);
    return;
  }
  yield `${JSON.stringify(header).slice(0, -1)},"events":[`;
  let count = 0;
  for await (const event of matching(events, filter, limit)) {
    yield `${count === 0 ? '' : ','}${JSON.stringify(event)}`;
    count++;
  }
  yield `],"exported_count":${count}}`;
}
