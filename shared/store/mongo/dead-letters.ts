import type { Collection } from 'mongodb';
import type { DeadLetter, DeadLetterRepository } from '../ports';
import { type StoredDocument, storable, toDate, toRecord } from './documents';

const NEWEST_FIRST = { _created: -1, dead_letter_id: -1 } as const;

export function mongoDeadLetterRepository(deadLetters: Collection<StoredDocument>): DeadLetterRepository {
  return {
    async add(letter) {
      await deadLetters.insertOne({
        _id: letter.dead_letter_id,
        ...storable(letter),
        _created: toDate(letter.created_at),
      });
    },
    async list(paging) {
      const [documents, total] = await Promise.all([
        paging.limit > 0
          ? deadLetters.find({}).sort(NEWEST_FIRST).skip(paging.offset).limit(paging.limit).toArray()
          : [],
        deadLetters.countDocuments({}),
      ]);
      return { items: documents.map((document) => toRecord<DeadLetter>(document)!), total };
    },
    async get(deadLetterId) {
      return toRecord<DeadLetter>(await deadLetters.findOne({ _id: deadLetterId }));
    },
    async delete(deadLetterId) {
      return (await deadLetters.deleteOne({ _id: deadLetterId })).deletedCount > 0;
    },
  };
}
