import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../domain/audit';
import { at, type MakeRepositories, useRepositories } from './fixtures';

const anEntry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  audit_id: 'audit-1',
  at: at(0),
  actor_id: 'admin-1',
  actor_username: 'boss',
  action: 'user.update',
  target_type: 'user',
  target_id: 'user-1',
  changes: [{ field: 'role', old: 'user', new: 'admin' }],
  ...overrides,
});

export function describeAuditLogRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'auditLog'>,
): void {
  describe(`AuditLogRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);
    const ids = (entries: AuditEntry[]) => entries.map((entry) => entry.audit_id);

    it('keeps entries exactly and lists them newest first with paging and a total', async () => {
      const entry = anEntry({ changes: [{ field: 'name', old: null, new: 'a "b" \u0000' }] });
      await repos().auditLog.append(entry);
      await repos().auditLog.append(anEntry({ audit_id: 'audit-3', at: at(30) }));
      await repos().auditLog.append(anEntry({ audit_id: 'audit-2', at: at(20) }));
      const first = await repos().auditLog.list({}, { limit: 2, offset: 0 });
      expect(first.total).toBe(3);
      expect(ids(first.items)).toEqual(['audit-3', 'audit-2']);
      expect((await repos().auditLog.list({}, { limit: 2, offset: 2 })).items).toEqual([entry]);
    });

    it('filters by actor, action, target and time', async () => {
      await repos().auditLog.append(anEntry({ audit_id: 'a', at: at(10) }));
      await repos().auditLog.append(
        anEntry({
          audit_id: 'b',
          at: at(20),
          actor_id: 'admin-2',
          action: 'event.delete',
          target_type: 'event',
          target_id: 'ev-1',
        }),
      );
      await repos().auditLog.append(anEntry({ audit_id: 'c', at: at(30), target_id: 'user-2' }));
      const list = async (filter: Parameters<ReturnType<typeof repos>['auditLog']['list']>[0]) => {
        const page = await repos().auditLog.list(filter, { limit: 10, offset: 0 });
        expect(page.total).toBe(page.items.length);
        return ids(page.items);
      };
      expect(await list({ actorId: 'admin-2' })).toEqual(['b']);
      expect(await list({ action: 'user.update' })).toEqual(['c', 'a']);
      expect(await list({ targetType: 'user', targetId: 'user-2' })).toEqual(['c']);
      expect(await list({ from: at(15), to: at(30) })).toEqual(['c', 'b']);
      expect(await list({ from: '2025-01-01T01:00:20+01:00' })).toEqual(['c', 'b']);
      expect(await list({ actorId: 'nobody' })).toEqual([]);
    });
  });
}
