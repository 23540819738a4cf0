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

    it('counts users', async () => {
      expect(await repos().users.count()).toBe(0);
      await repos().users.create(aUser());
      await repos().users.create(aUser({ user_id: 'user-2', username: 'grace', email: 'grace@example.com' }));
      expect(await repos().users.count()).toBe(2);
    });
  });
}
