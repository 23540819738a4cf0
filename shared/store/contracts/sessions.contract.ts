import { describe, expect, it } from 'vitest';
import { aSession, at, type MakeRepositories, useRepositories } from './fixtures';

export function describeSessionRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'sessions'>,
): void {
  describe(`SessionRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);

    it('finds a session by token hash until it expires', async () => {
      const session = aSession({ expires_at: at(60) });
      await repos().sessions.create(session);
      expect(await repos().sessions.find(session.token_hash, new Date(at(59)))).toEqual(session);
      expect(await repos().sessions.find(session.token_hash, new Date(at(60)))).toBeNull();
      expect(await repos().sessions.find(session.token_hash, new Date(at(61)))).toBeNull();
    });

    it('returns null for an unknown token hash', async () => {
      await repos().sessions.create(aSession());
      expect(await repos().sessions.find('b'.repeat(64), new Date(at(1)))).toBeNull();
    });

    it('deletes one session', async () => {
      await repos().sessions.create(aSession({ token_hash: 'one' }));
      await repos().sessions.create(aSession({ token_hash: 'two' }));
      await repos().sessions.delete('one');
      await repos().sessions.delete('one');
      expect(await repos().sessions.find('one', new Date(at(1)))).toBeNull();
      expect(await repos().sessions.find('two', new Date(at(1)))).not.toBeNull();
    });

    it("deletes every session of one user and nobody else's", async () => {
      await repos().sessions.create(aSession({ token_hash: 'a1', user_id: 'user-a' }));
      await repos().sessions.create(aSession({ token_hash: 'a2', user_id: 'user-a' }));
      await repos().sessions.create(aSession({ token_hash: 'b1', user_id: 'user-b' }));
      await repos().sessions.deleteForUser('user-a');
      expect(await repos().sessions.find('a1', new Date(at(1)))).toBeNull();
      expect(await repos().sessions.find('a2', new Date(at(1)))).toBeNull();
      expect((await repos().sessions.find('b1', new Date(at(1))))?.user_id).toBe('user-b');
    });
  });
}
