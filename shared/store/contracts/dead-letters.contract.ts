import { describe, expect, it } from 'vitest';
import { aDeadLetter, at, type MakeRepositories, useRepositories } from './fixtures';

export function describeDeadLetterRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'deadLetters'>,
): void {
  describe(`DeadLetterRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);

    it('stores a dead letter exactly, with a parsed event or with the raw body', async () => {
      const parsed = aDeadLetter();
      const unparsable = aDeadLetter({
        dead_letter_id: 'dl-raw',
        event: null,
        raw: '{"event_type": "execution_output", broken',
        event_type: 'unknown',
        event_id: '',
      });
      await repos().deadLetters.add(parsed);
      await repos().deadLetters.add(unparsable);
      expect(await repos().deadLetters.get('dl-1')).toEqual(parsed);
      expect(await repos().deadLetters.get('dl-raw')).toEqual(unparsable);
      expect(await repos().deadLetters.get('missing')).toBeNull();
    });

    it('lists newest first with a total and paging', async () => {
      for (const [id, second] of [
        ['dl-b', 2],
        ['dl-a', 3],
        ['dl-c', 1],
        ['dl-d', 2],
      ] as const) {
        await repos().deadLetters.add(aDeadLetter({ dead_letter_id: id, created_at: at(second) }));
      }
      const first = await repos().deadLetters.list({ limit: 3, offset: 0 });
      expect(first.items.map((letter) => letter.dead_letter_id)).toEqual(['dl-a', 'dl-d', 'dl-b']);
      expect(first.total).toBe(4);
      const rest = await repos().deadLetters.list({ limit: 3, offset: 3 });
      expect(rest.items.map((letter) => letter.dead_letter_id)).toEqual(['dl-c']);
      expect(rest.total).toBe(4);
    });

    it('deletes a dead letter and reports whether it existed', async () => {
      await repos().deadLetters.add(aDeadLetter());
      expect(await repos().deadLetters.delete('dl-1')).toBe(true);
      expect(await repos().deadLetters.delete('dl-1')).toBe(false);
      expect(await repos().deadLetters.list({ limit: 10, offset: 0 })).toEqual({ items: [], total: 0 });
    });
  });
}
