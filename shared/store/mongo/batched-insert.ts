import { type Collection, MongoBulkWriteError } from 'mongodb';
import { isDuplicateKeyWrite, type StoredDocument } from './documents';

/** Documents written by one insert at most. */
const MAX_BATCH = 256;

export type InsertOutcome = 'inserted' | 'duplicate';

interface PendingInsert {
  document: StoredDocument;
  resolve(outcome: InsertOutcome): void;
  reject(error: unknown): void;
}

/**
 * An insert function for one collection that writes the documents arriving while an insert is in
 * flight together, in the next unordered `insertMany`: one round trip for many documents under load
 * (each costs the server and the network far more than the document), none of them waiting behind
 * a refused one. Every caller learns its own document's fate: inserted, refused by a unique index
 * (`duplicate`), or the error.
 */
export function batchedInsert(
  collection: Collection<StoredDocument>,
): (document: StoredDocument) => Promise<InsertOutcome> {
  const pending: PendingInsert[] = [];
  let writing = false;

  async function write(batch: PendingInsert[]): Promise<void> {
    try {
      await collection.insertMany(
        batch.map(({ document }) => document),
        { ordered: false },
      );
      for (const { resolve } of batch) resolve('inserted');
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const refusals = new Map([error.writeErrors].flat().map((refusal) => [refusal.index, refusal]));
      batch.forEach(({ resolve, reject }, index) => {
        const refusal = refusals.get(index);
        if (!refusal) resolve('inserted');
        else if (isDuplicateKeyWrite(refusal)) resolve('duplicate');
        else reject(new Error(refusal.errmsg ?? `insert refused (code ${refusal.code})`));
      });
    }
  }

  async function drain(): Promise<void> {
    writing = true;
    while (pending.length > 0) {
      const batch = pending.splice(0, MAX_BATCH);
      await write(batch).catch((error) => {
        for (const { reject } of batch) reject(error);
      });
    }
    writing = false;
  }

  return (document) =>
    new Promise((resolve, reject) => {
      pending.push({ document, resolve, reject });
      if (!writing) void drain();
    });
}
