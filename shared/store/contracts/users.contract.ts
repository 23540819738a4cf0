import { describe, expect, it } from 'vitest';
import { ConflictError } from '../ports';
import { at, aUser, type MakeRepositories, useRepositories } from './fixtures';

export function describeUserRepositoryContract(adapterName: string, make: MakeRepositories<'users'>): void {
  describe(`UserRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);

    it('returns a created user exactly as stored, by id and by username', async () => {
      const user = aUser();
      await repos().users.create(user);
      expect(await repos().users.findById(user.user_id)).toEqual(user);
      expect(await repos().users.findByUsername(user.username)).toEqual(user);
    });

    it('returns null for unknown users', async () => {
      await repos().users.create(aUser());
      expect(await repos().users.findById('nobody')).toBeNull();
      expect(await repos().users.findByUsername('nobody')).toBeNull();
    });

    it('finds a username regardless of letter case', async () => {
      await repos().users.create(aUser({ username: 'Ada' }));
      expect((await repos().users.findByUsername('ADA'))?.user_id).toBe('user-1');
    });

    it('rejects a username taken in any letter case', async () => {
      await repos().users.create(aUser());
      const attempt = repos().users.create(
        aUser({ user_id: 'user-2', username: 'ADA', email: 'other@example.com' }),
      );
      await expect(attempt).rejects.toBeInstanceOf(ConflictError);
      await expect(attempt).rejects.toMatchObject({
        message: 'Username already registered',
        field: 'username',
      });
      expect(await repos().users.count()).toBe(1);
      expect(await repos().users.findById('user-2')).toBeNull();
    });

    it('rejects an email taken in any letter case', async () => {
      await repos().users.create(aUser());
      const attempt = repos().users.create(
        aUser({ user_id: 'user-2', username: 'grace', email: 'ADA@Example.com' }),
      );
      await expect(attempt).rejects.toMatchObject({ message: 'Email already registered', field: 'email' });
      expect(await repos().users.count()).toBe(1);
    });

    it('reports the username first when both username and email are taken', async () => {
      await repos().users.create(aUser());
      await expect(repos().users.create(aUser({ user_id: 'user-2' }))).rejects.toMatchObject({
        field: 'username',
      });
    });

    it('updates fields, returns the new record and keeps it', async () => {
      await repos().users.create(aUser());
      const updated = await repos().users.update('user-1', {
        role: 'admin',
        is_active: false,
        updated_at: at(10),
      });
      const expected = { ...aUser(), role: 'admin', is_active: false, updated_at: at(10) };
      expect(updated).toEqual(expected);
      expect(await repos().users.findById('user-1')).toEqual(expected);
    });

    it('moves the uniqueness of username and email along with an update', async () => {
      await repos().users.create(aUser());
      await repos().users.update('user-1', { username: 'ada2', email: 'ada2@example.com' });
      expect(await repos().users.findByUsername('ada')).toBeNull();
      await repos().users.create(aUser({ user_id: 'user-2' }));
      expect((await repos().users.findByUsername('ada'))?.user_id).toBe('user-2');
      expect((await repos().users.findByUsername('ada2'))?.user_id).toBe('user-1');
    });

    it('rejects an update to a username or email another user holds', async () => {
      await repos().users.create(aUser());
      await repos().users.create(aUser({ user_id: 'user-2', username: 'grace', email: 'grace@example.com' }));
      await expect(repos().users.update('user-2', { username: 'ADA' })).rejects.toMatchObject({
        message: 'Username already registered',
      });
      await expect(repos().users.update('user-2', { email: 'ada@EXAMPLE.com' })).rejects.toMatchObject({
        message: 'Email already registered',
      });
      expect((await repos().users.findById('user-2'))?.username).toBe('grace');
    });

    it('lets a user change the letter case of their own username', async () => {
      await repos().users.create(aUser());
      expect((await repos().users.update('user-1', { username: 'ADA' }))?.username).toBe('ADA');
    });

    it('returns null when updating an unknown user', async () => {
      expect(await repos().users.update('nobody', { role: 'admin' })).toBeNull();
    });

    describe('list', () => {
      const names = (page: { items: { username: string }[] }) => page.items.map((user) => user.username);
      const seed = async () => {
        for (const user of [
          aUser({ user_id: 'u-grace', username: 'grace', email: 'grace@navy.example', role: 'admin' }),
          aUser({ user_id: 'u-ada', username: 'Ada', email: 'ada@example.com' }),
          aUser({ user_id: 'u-alan', username: 'alan', email: 'turing@ACE.example', is_active: false }),
          aUser({ user_id: 'u-dot', username: 'a.b', email: 'dot@example.com', role: 'moderator' }),
          aUser({ user_id: 'u-bob', username: 'bob', email: 'bob_100%@example.com' }),
        ])
          await repos().users.create(user);
      };

      it('lists everyone by username in any letter case, with the total', async () => {
        await seed();
        const all = await repos().users.list({}, { limit: 10, offset: 0 });
        expect(names(all)).toEqual(['a.b', 'Ada', 'alan', 'bob', 'grace']);
        expect(all.total).toBe(5);
        expect(all.items[1]).toEqual(aUser({ user_id: 'u-ada', username: 'Ada', email: 'ada@example.com' }));
      });

      it('pages without skips or repeats and keeps the full total', async () => {
        await seed();
        const first = await repos().users.list({}, { limit: 2, offset: 0 });
        const second = await repos().users.list({}, { limit: 2, offset: 2 });
        const third = await repos().users.list({}, { limit: 2, offset: 4 });
        expect([...names(first), ...names(second), ...names(third)]).toEqual([
          'a.b',
          'Ada',
          'alan',
          'bob',
          'grace',
        ]);
        expect([first.total, second.total, third.total]).toEqual([5, 5, 5]);
        expect(await repos().users.list({}, { limit: 2, offset: 10 })).toEqual({ items: [], total: 5 });
        expect(await repos().users.list({}, { limit: 0, offset: 0 })).toEqual({ items: [], total: 5 });
      });

      it('searches username and email for a part, in any letter case', async () => {
        await seed();
        expect(names(await repos().users.list({ search: 'AL' }, { limit: 10, offset: 0 }))).toEqual(['alan']);
        expect(names(await repos().users.list({ search: 'ace.EX' }, { limit: 10, offset: 0 }))).toEqual([
          'alan',
        ]);
        expect(names(await repos().users.list({ search: 'navy' }, { limit: 10, offset: 0 }))).toEqual([
          'grace',
        ]);
        const paged = await repos().users.list({ search: 'EXAMPLE.com' }, { limit: 2, offset: 0 });
        expect(names(paged)).toEqual(['a.b', 'Ada']);
        expect(paged.total).toBe(3);
      });

      it('takes the search text literally, wildcards and pattern characters included', async () => {
        await seed();
        const search = async (text: string) =>
          names(await repos().users.list({ search: text }, { limit: 10, offset: 0 }));
        expect(await search('.')).toEqual(['a.b', 'Ada', 'alan', 'bob', 'grace']);
        expect(await search('a.b')).toEqual(['a.b']);
        expect(await search('%')).toEqual(['bob']);
        expect(await search('_1')).toEqual(['bob']);
        expect(await search('.*')).toEqual([]);
        expect(await search('(')).toEqual([]);
      });

      it('filters by role and by active flag, alone and with a search', async () => {
        await seed();
        expect(names(await repos().users.list({ role: 'admin' }, { limit: 10, offset: 0 }))).toEqual([
          'grace',
        ]);
        expect(names(await repos().users.list({ role: 'moderator' }, { limit: 10, offset: 0 }))).toEqual([
          'a.b',
        ]);
        expect(names(await repos().users.list({ isActive: false }, { limit: 10, offset: 0 }))).toEqual([
          'alan',
        ]);
        const activeUsers = await repos().users.list(
          { role: 'user', isActive: true },
          { limit: 10, offset: 0 },
        );
        expect(names(activeUsers)).toEqual(['Ada', 'bob']);
        expect(activeUsers.total).toBe(2);
        expect(
          names(await repos().users.list({ role: 'user', search: 'ada' }, { limit: 10, offset: 0 })),
        ).toEqual(['Ada']);
        expect(
          await repos().users.list({ role: 'admin', isActive: false }, { limit: 10, offset: 0 }),
        ).toEqual({
          items: [],
          total: 0,
        });
      });

      it('follows changes of name, role and active flag', async () => {
        await seed();
        await repos().users.update('u-bob', { username: 'Zed', role: 'admin', is_active: false });
        expect(names(await repos().users.list({ role: 'admin' }, { limit: 10, offset: 0 }))).toEqual([
          'grace',
          'Zed',
        ]);
        expect(names(await repos().users.list({ search: 'bob' }, { limit: 10, offset: 0 }))).toEqual(['Zed']);
        expect(
          names(await repos().users.list({ search: 'zed', isActive: false }, { limit: 10, offset: 0 })),
        ).toEqual(['Zed']);
      });
    });

    it('deletes a user, freeing the username and email, and reports whether it existed', async () => {
      await repos().users.create(aUser());
      await repos().users.create(aUser({ user_id: 'user-2', username: 'grace', email: 'grace@example.com' }));
      expect(await repos().users.delete('user-1')).toBe(true);
      expect(await repos().users.delete('user-1')).toBe(false);
      expect(await repos().users.findById('user-1')).toBeNull();
      expect(await repos().users.findByUsername('ada')).toBeNull();
      expect(await repos().users.count()).toBe(1);
      await repos().users.create(aUser({ user_id: 'user-3' }));
      expect((await repos().users.findByUsername('ADA'))?.user_id).toBe('user-3');
      expect((await repos().users.findById('user-2'))?.username).toBe('grace');
    });

    it('counts users', async () => {
      expect(await repos().users.count()).toBe(0);
      await repos().users.create(aUser());
      await repos().users.create(aUser({ user_id: 'user-2', username: 'grace', email: 'grace@example.com' }));
      expect(await repos().users.count()).toBe(2);
    });
  });
}
