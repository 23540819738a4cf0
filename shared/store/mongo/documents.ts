/**
 * How records sit in MongoDB collections. A record is stored field for field at the top level, with
 * its natural key as `_id` and, beside it, a few derived fields the indexes need (lower-cased names,
 * timestamps as dates). Every stored field that is not part of the record starts with `_`, and no
 * record field does, so reading strips them all.
 */
import { Binary, type Document, MongoServerError, type WriteError } from 'mongodb';

/** A stored document: natural key as a string `_id`, then record and derived fields. */
export interface StoredDocument extends Document {
  _id: string;
}

/** The record a stored document holds: the document without `_id` and the derived `_` fields. */
export function toRecord<T>(document: Record<string, unknown> | null | undefined): T | null {
  if (!document) return null;
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(document)) {
    if (!field.startsWith('_')) record[field] = fromStorable(value);
  }
  return record as T;
}

/**
 * FerretDB on PostgreSQL keeps documents as jsonb, which cannot hold U+0000 inside a string, and
 * scripts, their input and their output may contain it. Such a string is stored as its UTF-8 bytes
 * in a Binary of a user-defined subtype; no record field is ever Binary, so reading maps it back.
 */
const NUL_STRING = 0x80;

/** `value` with every string that contains U+0000, at any depth, stored as NUL_STRING Binary. */
export function storable<T>(value: T): T {
  if (typeof value === 'string')
    return (value.includes('\u0000') ? new Binary(Buffer.from(value, 'utf8'), NUL_STRING) : value) as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [field, item] of Object.entries(value)) copy[field] = storable(item);
    return copy as T;
  }
  return value;
}

/** The inverse of `storable`, for a value read from the store. */
export function fromStorable(value: unknown): unknown {
  if (value instanceof Binary)
    return value.sub_type === NUL_STRING ? Buffer.from(value.buffer).toString('utf8') : value;
  if (Array.isArray(value)) return value.map(fromStorable);
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [field, item] of Object.entries(value)) copy[field] = fromStorable(item);
    return copy;
  }
  return value;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/** Sort order of ISO timestamps as dates, so differently spelled instants still compare as instants. */
export function toDate(timestamp: string): Date {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) throw new Error(`invalid timestamp: ${timestamp}`);
  return date;
}

/**
 * A write refused by a unique index. Inserts answer DuplicateKey (11000) on MongoDB and FerretDB;
 * FerretDB 1.24 answers an update that collides with InternalError (1) carrying its backend's
 * message (PostgreSQL's unique_violation, SQLSTATE 23505, or SQLite's constraint error).
 */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && duplicateKey(error.code, error.message);
}

/** The same, for one refused document of a batch insert. */
export const isDuplicateKeyWrite = (refusal: WriteError): boolean =>
  duplicateKey(refusal.code, refusal.errmsg ?? '');

const duplicateKey = (code: unknown, message: string): boolean =>
  code === 11000 || (code === 1 && /SQLSTATE 23505|UNIQUE constraint failed/.test(message));

/** The defined fields of a patch: `undefined` means "leave unchanged", as in the embedded store. */
export function definedFields(patch: object, except: readonly string[] = []): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (value !== undefined && !except.includes(field)) fields[field] = value;
  }
  return fields;
}

/** Keys per `$in` list: one query per chunk keeps each command far below the server's size limit. */
const IN_CHUNK = 500;

/** `ids` in chunks for `$in` filters, so a long list becomes several modest commands. */
export function inChunks<T>(ids: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < ids.length; i += IN_CHUNK) chunks.push(ids.slice(i, i + IN_CHUNK));
  return chunks;
}

/** `text` as a regular expression that matches it literally. */
export const literalPattern = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
