import type { Collection } from 'mongodb';
import type { SystemSettings } from '../../domain/system-settings';
import type { SystemSettingsRepository } from '../ports';
import { type StoredDocument, storable, toRecord } from './documents';

/** The one settings document's key. */
const KEY = 'system';

export function mongoSystemSettingsRepository(
  settings: Collection<StoredDocument>,
): SystemSettingsRepository {
  return {
    async get() {
      return toRecord<SystemSettings>(await settings.findOne({ _id: KEY }));
    },
    async save(next) {
      // Settings are saved whole, so a plain replace is the whole write.
      await settings.replaceOne({ _id: KEY }, { _id: KEY, ...storable(next) }, { upsert: true });
    },
    async clear() {
      await settings.deleteOne({ _id: KEY });
    },
  };
}
