/**
 * How records sit in MongoDB collections. A record is stored field for field at the top level, with
 * its natural key as `_id` and, beside it, a few derived fields the indexes need (lower-cased names,
 * timestamps as dates). Every stored field that is not part of the record starts with `_`, and no
 * record field does, so reading strips them all.
 */
import { type Document, MongoServerError, type WriteError } from 'mongodb';

/** A stored document: natural key as a string `_id`, then record and derived fields. */
export interface StoredDocument extends Document {
  _id: string;
}

/** The record a stored document holds: the document without `_id` and the derived `_` fields. */
export function toRecord<T>(document: Record<string, unknown> | null | undefined): T | null {
  if (!document) return null;
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(document)) {
    if (!field.startsWith('_')) record[field] = value;
  }
  return record as T;
}

/** Sort order of ISO timestamps as dates, so differently spelled instants still compare as instants. */
export function toDate(timestamp: string): Date {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) throw new Error(`invalid timestamp: ${timestamp}`);
  return date;
}

/**
 * A write refused by a unique index. Inserts answer DuplicateKey (11000) on MongoDB and FerretDB;
 * FerretDB 1.24 answers an update that collides with InternalError (1) carrying SQLite's message.
 */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && duplicateKey(error.code, error.message);
}

/** The same, for one refused document of a batch insert. */
export const isDuplicateKeyWrite = (refusal: WriteError): boolean =>
  duplicateKey(refusal.code, refusal.errmsg ?? '');

const duplicateKey = (code: unknown, message: string): boolean =>
  code === 11000 || (code === 1 && /UNIQUE constraint failed/.test(message));

/** The defined fields of a patch: `undefined` means "leave unchanged", as in the embedded store. */
export function definedFields(patch: object, except: readonly string[] = []): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (value !== undefined && !except.includes(field)) fields[field] = value;
  }
  return fields;
}
