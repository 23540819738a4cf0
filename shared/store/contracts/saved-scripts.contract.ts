import { describe, expect, it } from 'vitest';
import type { SavedScriptRecord } from '../../domain/saved-script';
import { ConflictError } from '../ports';
import { aSavedScript, at, type MakeRepositories, useRepositories } from './fixtures';

const ids = (items: SavedScriptRecord[]) => items.map((item) => item.script_id);

export function describeSavedScriptRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'savedScripts'>,
): void {
  describe(`SavedScriptRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);

    it('round-trips a script exactly, NUL characters and all', async () => {
      const script = aSavedScript({
        script: 'print("ünïcödé ✓")\n\u0000tail',
        name: 'a "quoted" name \u0000',
        description: 'line 1\nline 2',
        created_at: '2025-03-04T05:06:07.891Z',
        updated_at: '2025-03-04T05:06:07.891Z',
      });
      await repos().savedScripts.create(script);
      expect(await repos().savedScripts.get(script.script_id)).toEqual(script);
      expect(await repos().savedScripts.get('missing')).toBeNull();
    });

    it('refuses a second script with the same id', async () => {
      await repos().savedScripts.create(aSavedScript());
      await expect(repos().savedScripts.create(aSavedScript({ name: 'other' }))).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect((await repos().savedScripts.get('script-1'))?.name).toBe('hello.py');
    });

    it("lists only the user's scripts, most recently changed first, with paging and a total", async () => {
      for (const script of [
        aSavedScript({ script_id: 's1', updated_at: at(1) }),
        aSavedScript({ script_id: 's3', updated_at: at(3) }),
        aSavedScript({ script_id: 's2', updated_at: at(2) }),
        aSavedScript({ script_id: 's2b', updated_at: at(2) }),
        aSavedScript({ script_id: 'x', user_id: 'user-2', updated_at: at(9) }),
      ])
        await repos().savedScripts.create(script);
      const all = await repos().savedScripts.list('user-1', { limit: 10, offset: 0 });
      expect(ids(all.items)).toEqual(['s3', 's2b', 's2', 's1']);
      expect(all.total).toBe(4);
      const second = await repos().savedScripts.list('user-1', { limit: 2, offset: 2 });
      expect(ids(second.items)).toEqual(['s2', 's1']);
      expect(second.total).toBe(4);
      expect(await repos().savedScripts.list('nobody', { limit: 10, offset: 0 })).toEqual({
        items: [],
        total: 0,
      });
    });

    it("updates the owner's script, leaving undefined fields, the id, owner and creation time alone", async () => {
      await repos().savedScripts.create(aSavedScript({ description: 'keep me' }));
      const updated = await repos().savedScripts.update('user-1', 'script-1', {
        name: 'renamed.py',
        script: 'print(2)\u0000',
        description: undefined,
        updated_at: at(60),
        ...({ user_id: 'user-2', script_id: 'other', created_at: at(99) } as object),
      });
      const expected = aSavedScript({
        description: 'keep me',
        name: 'renamed.py',
        script: 'print(2)\u0000',
        updated_at: at(60),
      });
      expect(updated).toEqual(expected);
      expect(await repos().savedScripts.get('script-1')).toEqual(expected);
      expect(await repos().savedScripts.get('other')).toBeNull();
    });

    it('moves an updated script to the front of the listing', async () => {
      await repos().savedScripts.create(aSavedScript({ script_id: 'old', updated_at: at(1) }));
      await repos().savedScripts.create(aSavedScript({ script_id: 'new', updated_at: at(2) }));
      await repos().savedScripts.update('user-1', 'old', { description: 'touched', updated_at: at(3) });
      const page = await repos().savedScripts.list('user-1', { limit: 10, offset: 0 });
      expect(ids(page.items)).toEqual(['old', 'new']);
    });

    it("neither updates nor deletes another user's script, nor a missing one", async () => {
      await repos().savedScripts.create(aSavedScript());
      expect(await repos().savedScripts.update('user-2', 'script-1', { name: 'stolen' })).toBeNull();
      expect(await repos().savedScripts.update('user-1', 'missing', { name: 'x' })).toBeNull();
      expect(await repos().savedScripts.delete('user-2', 'script-1')).toBe(false);
      expect(await repos().savedScripts.get('script-1')).toEqual(aSavedScript());
    });

    it("deletes the owner's script once", async () => {
      await repos().savedScripts.create(aSavedScript());
      expect(await repos().savedScripts.delete('user-1', 'script-1')).toBe(true);
      expect(await repos().savedScripts.get('script-1')).toBeNull();
      expect(await repos().savedScripts.delete('user-1', 'script-1')).toBe(false);
      expect(await repos().savedScripts.update('user-1', 'script-1', { name: 'back?' })).toBeNull();
      expect(await repos().savedScripts.get('script-1')).toBeNull();
    });

    it("deletes every script of one user and nobody else's", async () => {
      await repos().savedScripts.create(aSavedScript({ script_id: 's1' }));
      await repos().savedScripts.create(aSavedScript({ script_id: 's2' }));
      await repos().savedScripts.create(aSavedScript({ script_id: 's3', user_id: 'user-2' }));
      expect(await repos().savedScripts.deleteForUser('user-1')).toBe(2);
      expect(await repos().savedScripts.list('user-1', { limit: 10, offset: 0 })).toEqual({
        items: [],
        total: 0,
      });
      expect(ids((await repos().savedScripts.list('user-2', { limit: 10, offset: 0 })).items)).toEqual([
        's3',
      ]);
      expect(await repos().savedScripts.deleteForUser('user-1')).toBe(0);
    });
  });
}
