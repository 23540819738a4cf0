import { describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../domain/execution';
import { ConflictError, type ExecutionFilter, type Repositories } from '../ports';
import { anExecution, at, type MakeRepositories, useRepositories } from './fixtures';

const ids = (items: ExecutionRecord[]) => items.map((item) => item.execution_id);

/** Every page of a listing, fetched `pageSize` at a time until a short page. */
async function allPages(repos: Pick<Repositories, 'executions'>, filter: ExecutionFilter, pageSize: number) {
  const seen: string[] = [];
  const totals = new Set<number>();
  for (let skip = 0; ; skip += pageSize) {
    const page = await repos.executions.list(filter, { limit: pageSize, skip });
    totals.add(page.total);
    seen.push(...ids(page.items));
    if (page.items.length < pageSize) return { seen, totals };
  }
}

export function describeExecutionRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'executions'>,
): void {
  describe(`ExecutionRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);

    it('round-trips a record exactly: numbers, nulls and nested objects', async () => {
      const execution = anExecution({
        status: 'completed',
        stdout: 'ünïcödé ✓\n\u0000tail',
        stderr: '',
        exit_code: -1,
        resource_usage: {
          execution_time_wall_seconds: 0.1 + 0.2,
          cpu_time_jiffies: Number.MAX_SAFE_INTEGER,
          clk_tck_hertz: 100,
          peak_memory_kb: 1e-7,
          cpu_time_seconds: 123456.789012345,
        },
        output: { stdout_truncated: true, stderr_truncated: false, stdout_bytes: 1048576, stderr_bytes: 0 },
        created_at: '2025-03-04T05:06:07.891Z',
      });
      await repos().executions.create(execution);
      expect(await repos().executions.get(execution.execution_id)).toEqual(execution);
    });

    it('returns null for an unknown execution', async () => {
      expect(await repos().executions.get('missing')).toBeNull();
    });

    it('rejects a second execution with the same id', async () => {
      await repos().executions.create(anExecution());
      await expect(repos().executions.create(anExecution({ script: 'other' }))).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect((await repos().executions.get('exec-1'))?.script).toBe(anExecution().script);
    });

    it('creates concurrent executions each once, refusing only the duplicate among them', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `exec-many-${i}`);
      const outcomes = await Promise.allSettled([
        ...ids.map((id) => repos().executions.create(anExecution({ execution_id: id }))),
        repos().executions.create(anExecution({ execution_id: ids[7]!, script: 'again' })),
      ]);
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(ids.length);
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(refused).toHaveLength(1);
      expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
      for (const id of ids) expect((await repos().executions.get(id))?.script, id).toBe(anExecution().script);
    });

    describe('transition', () => {
      it('applies the patch when the status matches and returns the updated record', async () => {
        await repos().executions.create(anExecution());
        const patch = { status: 'scheduled' as const, scheduled_at: at(1), updated_at: at(1) };
        const updated = await repos().executions.transition('exec-1', ['queued'], patch);
        expect(updated).toEqual({ ...anExecution(), ...patch });
        expect(await repos().executions.get('exec-1')).toEqual(updated);
      });

      it('returns null and changes nothing when the status does not match', async () => {
        await repos().executions.create(anExecution({ status: 'completed' }));
        const result = await repos().executions.transition('exec-1', ['queued', 'scheduled', 'running'], {
          status: 'timeout',
          error_message: 'late',
        });
        expect(result).toBeNull();
        expect(await repos().executions.get('exec-1')).toEqual(anExecution({ status: 'completed' }));
      });

      it('returns null for an unknown execution', async () => {
        expect(await repos().executions.transition('missing', ['queued'], { status: 'running' })).toBeNull();
      });

      it('lets exactly one of two racing transitions from the same status win', async () => {
        await repos().executions.create(anExecution({ status: 'running' }));
        const results = await Promise.all([
          repos().executions.transition('exec-1', ['running'], { status: 'completed', exit_code: 0 }),
          repos().executions.transition('exec-1', ['running'], { status: 'cancelled' }),
        ]);
        const winners = results.filter((result) => result !== null);
        expect(winners).toHaveLength(1);
        expect((await repos().executions.get('exec-1'))?.status).toBe(winners[0]?.status);
      });

      it('replaces nested objects whole, writes explicit nulls and ignores undefined fields', async () => {
        await repos().executions.create(
          anExecution({
            stdout: 'partial',
            output: { stdout_truncated: true, stderr_truncated: true, stdout_bytes: 9, stderr_bytes: 9 },
          }),
        );
        const output = { stdout_truncated: false, stderr_truncated: false, stdout_bytes: 1, stderr_bytes: 0 };
        const updated = await repos().executions.transition('exec-1', ['queued'], {
          stdout: null,
          output,
          stderr: undefined,
        });
        expect(updated).toEqual(anExecution({ stdout: null, output }));
        expect(updated).toHaveProperty('stderr', null);
      });

      it('writes output holding NUL characters exactly', async () => {
        await repos().executions.create(anExecution());
        const updated = await repos().executions.transition('exec-1', ['queued'], {
          status: 'completed',
          stdout: '\u0000\u0000 binary-ish',
          stderr: 'warn\u0000',
        });
        expect(updated).toMatchObject({ stdout: '\u0000\u0000 binary-ish', stderr: 'warn\u0000' });
        expect(await repos().executions.get('exec-1')).toEqual(updated);
      });

      it('never changes the execution id or owner', async () => {
        await repos().executions.create(anExecution());
        const sneaky = {
          status: 'running',
          user_id: 'intruder',
          execution_id: 'other',
        } as Partial<ExecutionRecord>;
        const updated = await repos().executions.transition('exec-1', ['queued'], sneaky);
        expect(updated).toMatchObject({ execution_id: 'exec-1', user_id: 'user-1', status: 'running' });
        expect((await repos().executions.list({ userId: 'user-1' }, { limit: 10, skip: 0 })).total).toBe(1);
      });

      it('is reflected by listings filtered by status', async () => {
        await repos().executions.create(anExecution());
        await repos().executions.transition('exec-1', ['queued'], { status: 'running' });
        expect((await repos().executions.list({ status: 'queued' }, { limit: 10, skip: 0 })).total).toBe(0);
        const running = await repos().executions.list({ status: 'running' }, { limit: 10, skip: 0 });
        expect(ids(running.items)).toEqual(['exec-1']);
      });
    });

    describe('list', () => {
      it('lists newest first, then by id descending when created_at is equal', async () => {
        await repos().executions.create(anExecution({ execution_id: 'b', created_at: at(1) }));
        await repos().executions.create(anExecution({ execution_id: 'a', created_at: at(2) }));
        await repos().executions.create(anExecution({ execution_id: 'c', created_at: at(1) }));
        await repos().executions.create(anExecution({ execution_id: 'd', created_at: at(0) }));
        const page = await repos().executions.list({}, { limit: 10, skip: 0 });
        expect(ids(page.items)).toEqual(['a', 'c', 'b', 'd']);
        expect(page.total).toBe(4);
      });

      it('pages without skipping or repeating records, even when many share created_at', async () => {
        const created: { id: string; second: number }[] = [];
        for (let i = 0; i < 23; i++) {
          // Ids are inserted out of order so insertion order cannot stand in for the id tie-break.
          const id = `exec-${String((i * 7) % 23).padStart(2, '0')}`;
          created.push({ id, second: i % 3 });
          await repos().executions.create(anExecution({ execution_id: id, created_at: at(i % 3) }));
        }
        const expected = created
          .sort((a, b) => b.second - a.second || (a.id < b.id ? 1 : -1))
          .map((entry) => entry.id);
        const { seen, totals } = await allPages(repos(), {}, 5);
        expect(seen).toEqual(expected);
        expect([...totals]).toEqual([23]);
      });

      it('returns the full total with a page beyond the end', async () => {
        await repos().executions.create(anExecution());
        expect(await repos().executions.list({}, { limit: 10, skip: 5 })).toEqual({ items: [], total: 1 });
      });

      it('filters by user, status and language, alone and combined', async () => {
        const rows = [
          anExecution({
            execution_id: 'e1',
            user_id: 'u1',
            status: 'completed',
            lang: 'python',
            created_at: at(1),
          }),
          anExecution({
            execution_id: 'e2',
            user_id: 'u1',
            status: 'failed',
            lang: 'node',
            priority: 'high',
            created_at: at(2),
          }),
          anExecution({
            execution_id: 'e3',
            user_id: 'u2',
            status: 'completed',
            lang: 'node',
            created_at: at(3),
          }),
          anExecution({
            execution_id: 'e4',
            user_id: 'u1',
            status: 'completed',
            lang: 'node',
            created_at: at(4),
          }),
        ];
        for (const row of rows) await repos().executions.create(row);
        const list = async (filter: ExecutionFilter) => {
          const page = await repos().executions.list(filter, { limit: 10, skip: 0 });
          expect(page.total).toBe(page.items.length);
          return ids(page.items);
        };
        expect(await list({ userId: 'u1' })).toEqual(['e4', 'e2', 'e1']);
        expect(await list({ status: 'completed' })).toEqual(['e4', 'e3', 'e1']);
        expect(await list({ lang: 'node' })).toEqual(['e4', 'e3', 'e2']);
        expect(await list({ userId: 'u1', status: 'completed' })).toEqual(['e4', 'e1']);
        expect(await list({ userId: 'u1', status: 'completed', lang: 'node' })).toEqual(['e4']);
        expect(await list({ userId: 'u3' })).toEqual([]);
        expect(await list({ statuses: ['failed', 'completed'] })).toEqual(['e4', 'e3', 'e2', 'e1']);
        expect(await list({ userId: 'u1', statuses: ['failed', 'timeout'] })).toEqual(['e2']);
        expect(await list({ statuses: [] })).toEqual([]);
        expect(await list({ priority: 'high' })).toEqual(['e2']);
        expect(await list({ priority: 'normal', lang: 'node' })).toEqual(['e4', 'e3']);
        expect(await repos().executions.get('e3')).toEqual(rows[2]);
      });

      it('filters by an inclusive created_at range', async () => {
        for (let i = 0; i < 6; i++) {
          await repos().executions.create(anExecution({ execution_id: `e${i}`, created_at: at(i * 10) }));
        }
        const list = async (filter: ExecutionFilter) =>
          ids((await repos().executions.list(filter, { limit: 10, skip: 0 })).items);
        expect(await list({ createdFrom: at(10), createdTo: at(30) })).toEqual(['e3', 'e2', 'e1']);
        expect(await list({ createdFrom: at(40) })).toEqual(['e5', 'e4']);
        expect(await list({ createdTo: at(0) })).toEqual(['e0']);
        expect(await list({ createdFrom: at(11), createdTo: at(19) })).toEqual([]);
        const total = (
          await repos().executions.list({ createdFrom: at(10), createdTo: at(30) }, { limit: 1, skip: 0 })
        ).total;
        expect(total).toBe(3);
      });

      it('pages through one user among many without skips or repeats', async () => {
        for (let i = 0; i < 40; i++) {
          const userId = i % 2 === 0 ? 'even' : 'odd';
          await repos().executions.create(
            anExecution({
              execution_id: `e${String(i).padStart(2, '0')}`,
              user_id: userId,
              created_at: at(i % 4),
            }),
          );
        }
        const { seen, totals } = await allPages(repos(), { userId: 'even' }, 3);
        expect(seen).toHaveLength(20);
        expect(new Set(seen).size).toBe(20);
        expect(seen.every((id) => Number(id.slice(1)) % 2 === 0)).toBe(true);
        expect([...totals]).toEqual([20]);
      });
    });

    it('deletes an execution and reports whether it existed', async () => {
      await repos().executions.create(anExecution());
      expect(await repos().executions.delete('exec-1')).toBe(true);
      expect(await repos().executions.delete('exec-1')).toBe(false);
      expect(await repos().executions.get('exec-1')).toBeNull();
      expect((await repos().executions.list({}, { limit: 10, skip: 0 })).total).toBe(0);
    });

    it("counts one user's executions by status, following transitions", async () => {
      for (const [id, userId, status] of [
        ['e1', 'user-1', 'completed'],
        ['e2', 'user-1', 'completed'],
        ['e3', 'user-1', 'failed'],
        ['e4', 'user-1', 'queued'],
        ['e5', 'user-2', 'timeout'],
      ] as const)
        await repos().executions.create(anExecution({ execution_id: id, user_id: userId, status }));
      expect(await repos().executions.countByStatus('user-1')).toEqual({
        completed: 2,
        failed: 1,
        queued: 1,
      });
      await repos().executions.transition('e4', ['queued'], { status: 'cancelled' });
      expect(await repos().executions.countByStatus('user-1')).toEqual({
        completed: 2,
        failed: 1,
        cancelled: 1,
      });
      expect(await repos().executions.countByStatus('user-2')).toEqual({ timeout: 1 });
      expect(await repos().executions.countByStatus('nobody')).toEqual({});
    });

    it("deletes every execution of one user and nobody else's, returning their ids", async () => {
      for (const [id, userId] of [
        ['mine-1', 'user-1'],
        ['theirs', 'user-2'],
        ['mine-2', 'user-1'],
      ] as const)
        await repos().executions.create(anExecution({ execution_id: id, user_id: userId }));
      await repos().executions.transition('mine-1', ['queued'], { status: 'running' });
      expect((await repos().executions.deleteForUser('user-1')).sort()).toEqual(['mine-1', 'mine-2']);
      expect(await repos().executions.get('mine-1')).toBeNull();
      expect(await repos().executions.get('mine-2')).toBeNull();
      expect(ids((await repos().executions.list({}, { limit: 10, skip: 0 })).items)).toEqual(['theirs']);
      expect(await repos().executions.deleteForUser('user-1')).toEqual([]);
      // The ids are free again, transitions and all.
      await repos().executions.create(anExecution({ execution_id: 'mine-1', user_id: 'user-3' }));
      expect(
        await repos().executions.transition('mine-1', ['queued'], { status: 'scheduled' }),
      ).toMatchObject({
        status: 'scheduled',
      });
    });
  });
}
