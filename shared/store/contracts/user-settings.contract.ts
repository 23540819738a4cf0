import { describe, expect, it } from 'vitest';
import { aSettingsRevision, at, type MakeRepositories, useRepositories } from './fixtures';

export function describeUserSettingsRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'userSettings'>,
): void {
  describe(`UserSettingsRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);
    const saveAll = async (...revisions: ReturnType<typeof aSettingsRevision>[]) => {
      for (const revision of revisions) expect(await repos().userSettings.save(revision)).toBe(true);
    };

    it('has nothing for a user who never saved, then the settings of the newest save', async () => {
      expect(await repos().userSettings.get('user-1')).toBeNull();
      expect(await repos().userSettings.history('user-1', 10)).toEqual([]);
      await saveAll(aSettingsRevision(1), aSettingsRevision(2));
      expect(await repos().userSettings.get('user-1')).toEqual(aSettingsRevision(2).settings);
      expect(await repos().userSettings.get('user-2')).toBeNull();
    });

    it('round-trips any custom settings and change values exactly: odd keys, NUL, nesting, null', async () => {
      const custom = {
        'a.b': { $where: 'x', _hidden: [1, 'two', null, { deep: true }] },
        $dollar: 0.1 + 0.2,
        _underscore: 'nul \u0000 inside',
        '': 'empty key',
        ünï: -1,
      };
      const revision = aSettingsRevision(1, { settings: { custom_settings: custom } });
      revision.changes = [
        { field: '/custom_settings/a.b', old_value: null, new_value: custom['a.b'] },
        { field: '/', old_value: { nested: [] }, new_value: 'text\u0000' },
      ];
      revision.reason = 'because "reasons"\n';
      await saveAll(revision);
      expect(await repos().userSettings.get('user-1')).toEqual(revision.settings);
      expect(await repos().userSettings.history('user-1', 5)).toEqual([revision]);
    });

    it('saves only the next version: not one taken, not one skipped', async () => {
      expect(await repos().userSettings.save(aSettingsRevision(2))).toBe(false);
      await saveAll(aSettingsRevision(1));
      expect(await repos().userSettings.save(aSettingsRevision(1, { settings: { theme: 'auto' } }))).toBe(
        false,
      );
      expect(await repos().userSettings.save(aSettingsRevision(3))).toBe(false);
      expect(await repos().userSettings.get('user-1')).toEqual(aSettingsRevision(1).settings);
      expect(await repos().userSettings.history('user-1', 10)).toEqual([aSettingsRevision(1)]);
    });

    it('lets exactly one of racing saves of one version win', async () => {
      await saveAll(aSettingsRevision(1));
      const racers = Array.from({ length: 6 }, (_, i) =>
        aSettingsRevision(2, { settings: { timezone: `Zone/${i}` } }),
      );
      const results = await Promise.all(racers.map((revision) => repos().userSettings.save(revision)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = racers[results.indexOf(true)]!;
      expect(await repos().userSettings.get('user-1')).toEqual(winner.settings);
      expect(await repos().userSettings.history('user-1', 10)).toEqual([winner, aSettingsRevision(1)]);
    });

    it("keeps each user's versions apart", async () => {
      await saveAll(aSettingsRevision(1), aSettingsRevision(1, { user_id: 'user-2' }));
      await saveAll(aSettingsRevision(2, { user_id: 'user-2' }));
      expect((await repos().userSettings.get('user-1'))?.version).toBe(1);
      expect((await repos().userSettings.get('user-2'))?.version).toBe(2);
      expect((await repos().userSettings.history('user-1', 10)).map((r) => r.version)).toEqual([1]);
    });

    it('returns the newest revisions first, as many as asked', async () => {
      await saveAll(...[1, 2, 3, 4, 5].map((version) => aSettingsRevision(version)));
      const versions = async (limit: number) =>
        (await repos().userSettings.history('user-1', limit)).map((r) => r.version);
      expect(await versions(3)).toEqual([5, 4, 3]);
      expect(await versions(50)).toEqual([5, 4, 3, 2, 1]);
      expect(await repos().userSettings.history('user-1', 2)).toEqual([
        aSettingsRevision(5),
        aSettingsRevision(4),
      ]);
    });

    it('finds the newest revision made at or before a moment', async () => {
      await saveAll(aSettingsRevision(1), aSettingsRevision(2), aSettingsRevision(3));
      await saveAll(aSettingsRevision(1, { user_id: 'user-2', changed_at: at(0) }));
      const versionAt = async (moment: string) =>
        (await repos().userSettings.revisionAt('user-1', moment))?.version;
      expect(await versionAt(at(59))).toBeUndefined();
      expect(await versionAt(at(60))).toBe(1);
      expect(await versionAt(at(150))).toBe(2);
      // The same instant spelled with an offset.
      expect(await versionAt('2025-01-01T01:03:00+01:00')).toBe(3);
      expect(await versionAt(at(10_000))).toBe(3);
      expect(await repos().userSettings.revisionAt('user-1', at(180))).toEqual(aSettingsRevision(3));
    });

    it("forgets one user's settings and history, and nobody else's", async () => {
      await saveAll(aSettingsRevision(1), aSettingsRevision(2));
      await saveAll(aSettingsRevision(1, { user_id: 'user-2' }));
      expect(await repos().userSettings.deleteForUser('user-1')).toBe(1);
      expect(await repos().userSettings.get('user-1')).toBeNull();
      expect(await repos().userSettings.history('user-1', 10)).toEqual([]);
      expect(await repos().userSettings.revisionAt('user-1', at(10_000))).toBeNull();
      expect(await repos().userSettings.get('user-2')).toEqual(
        aSettingsRevision(1, { user_id: 'user-2' }).settings,
      );
      expect(await repos().userSettings.deleteForUser('user-1')).toBe(0);
      // Saving starts again from the first version.
      expect(await repos().userSettings.save(aSettingsRevision(2))).toBe(false);
      expect(await repos().userSettings.save(aSettingsRevision(1))).toBe(true);
    });
  });
}
