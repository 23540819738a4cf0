import { describe, expect, it } from 'vitest';
import { ConflictError } from '../ports';
import { anApiKey, at, type MakeRepositories, useRepositories } from './fixtures';

export function describeApiKeyRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'apiKeys'>,
): void {
  describe(`ApiKeyRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);

    it('finds a key exactly by the hash of its secret', async () => {
      const key = anApiKey({ expires_at: at(3600), name: 'deploy "bot" \u0000' });
      await repos().apiKeys.create(key);
      expect(await repos().apiKeys.findByHash('hash-1')).toEqual(key);
      expect(await repos().apiKeys.findByHash('hash-2')).toBeNull();
    });

    it('refuses a second key with the same id or the same secret', async () => {
      await repos().apiKeys.create(anApiKey());
      await expect(repos().apiKeys.create(anApiKey({ key_hash: 'other' }))).rejects.toBeInstanceOf(
        ConflictError,
      );
      await expect(repos().apiKeys.create(anApiKey({ key_id: 'key-2' }))).rejects.toBeInstanceOf(
        ConflictError,
      );
    });

    it("lists only the user's keys, newest first", async () => {
      await repos().apiKeys.create(anApiKey({ key_id: 'old', key_hash: 'h-old', created_at: at(1) }));
      await repos().apiKeys.create(anApiKey({ key_id: 'new', key_hash: 'h-new', created_at: at(2) }));
      await repos().apiKeys.create(anApiKey({ key_id: 'theirs', key_hash: 'h-theirs', user_id: 'user-2' }));
      expect((await repos().apiKeys.listForUser('user-1')).map((key) => key.key_id)).toEqual(['new', 'old']);
      expect(await repos().apiKeys.listForUser('user-3')).toEqual([]);
    });

    it('notes the last use', async () => {
      await repos().apiKeys.create(anApiKey());
      await repos().apiKeys.touch('key-1', at(60));
      await repos().apiKeys.touch('missing', at(60));
      expect(await repos().apiKeys.findByHash('hash-1')).toEqual(anApiKey({ last_used_at: at(60) }));
    });

    it("deletes a key only for its owner, and all of a user's keys", async () => {
      await repos().apiKeys.create(anApiKey());
      await repos().apiKeys.create(anApiKey({ key_id: 'key-2', key_hash: 'hash-2' }));
      await repos().apiKeys.create(anApiKey({ key_id: 'key-3', key_hash: 'hash-3', user_id: 'user-2' }));
      expect(await repos().apiKeys.delete('user-2', 'key-1')).toBe(false);
      expect(await repos().apiKeys.delete('user-1', 'key-1')).toBe(true);
      expect(await repos().apiKeys.delete('user-1', 'key-1')).toBe(false);
      expect(await repos().apiKeys.findByHash('hash-1')).toBeNull();
      expect(await repos().apiKeys.deleteForUser('user-1')).toBe(1);
      expect(await repos().apiKeys.listForUser('user-1')).toEqual([]);
      expect(await repos().apiKeys.listForUser('user-2')).toHaveLength(1);
    });
  });
}
