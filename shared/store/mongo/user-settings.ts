/**
 * User settings on a server without atomic updates (FerretDB, see README.md). A revision is stored under
 * the key `{user id}@{version}`; inserting under a unique key is atomic, so of racing saves of one version
 * exactly one lands. The settings document keyed by user id is only where reading starts: it is written
 * after its revision and may lag (a writer died in between) or be overtaken (writers finishing out of
 * order), so a read walks forward through any newer revisions by key. Custom settings have keys the user
 * chooses (dots, `$`, leading `_`), so settings and revisions are stored as JSON text.
 */
import type { Collection } from 'mongodb';
import type { SettingsRevision, UserSettingsRecord } from '../../domain/user-settings';
import type { UserSettingsRepository } from '../ports';
import { isDuplicateKey, type StoredDocument, toDate } from './documents';

const revisionId = (userId: string, version: number) => `${userId}@${version}`;

/** Reads walk at most this many revisions past the settings document; far more than racing writers leave. */
const MAX_WALK = 1000;

const parseRevision = (document: StoredDocument) =>
  JSON.parse(document._revision as string) as SettingsRevision;

export function mongoUserSettingsRepository(
  settings: Collection<StoredDocument>,
  revisions: Collection<StoredDocument>,
): UserSettingsRepository {
  /** The newest settings: the stored document, then every newer revision found by key. */
  async function current(userId: string): Promise<UserSettingsRecord | null> {
    const document = await settings.findOne({ _id: userId });
    let newest = document ? (JSON.parse(document._settings as string) as UserSettingsRecord) : null;
    for (let step = 0; step < MAX_WALK; step++) {
      const next = await revisions.findOne({ _id: revisionId(userId, (newest?.version ?? 0) + 1) });
      if (!next) return newest;
      newest = parseRevision(next).settings;
    }
    throw new Error(`settings of ${userId} are more than ${MAX_WALK} revisions behind`);
  }

  return {
    get: current,
    async save(revision) {
      const stored = (await current(revision.user_id))?.version ?? 0;
      if (revision.version !== stored + 1) return false;
      try {
        await revisions.insertOne({
          _id: revisionId(revision.user_id, revision.version),
          user_id: revision.user_id,
          version: revision.version,
          _changed: toDate(revision.changed_at),
          _revision: JSON.stringify(revision),
        });
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
      try {
        await settings.replaceOne(
          { _id: revision.user_id },
          { version: revision.version, _settings: JSON.stringify(revision.settings) },
          { upsert: true },
        );
      } catch (error) {
        // Two first saves racing to create the document: the revisions already say what is current.
        if (!isDuplicateKey(error)) throw error;
      }
      return true;
    },
    async history(userId, limit) {
      const newest = (await current(userId))?.version ?? 0;
      const versions = Array.from({ length: Math.min(limit, newest) }, (_, i) => newest - i);
      if (versions.length === 0) return [];
      // Point reads by key: the versions below the newest are all there, one per change.
      const found = await revisions
        .find({ _id: { $in: versions.map((v) => revisionId(userId, v)) } })
        .toArray();
      return found.map(parseRevision).sort((a, b) => b.version - a.version);
    },
    async revisionAt(userId, at) {
      const [found] = await revisions
        .find({ user_id: userId, _changed: { $lte: toDate(at) } })
        .sort({ version: -1 })
        .limit(1)
        .toArray();
      return found ? parseRevision(found) : null;
    },
    async deleteForUser(userId) {
      // Revisions first: until the document goes, a read still finds what it names.
      const history = await revisions.deleteMany({ user_id: userId });
      const document = await settings.deleteOne({ _id: userId });
      return history.deletedCount > 0 || document.deletedCount > 0 ? 1 : 0;
    },
  };
}
