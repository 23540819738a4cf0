import type Database from 'better-sqlite3';
import type { ExecutionRecord, ExecutionStatus } from '../../domain/execution';
import { ConflictError, type ExecutionFilter, type ExecutionRepository } from '../ports';
import { type SqliteDatabase, toMillis } from './database';
import { applyPatch } from './patch';

interface ListStatements {
  page: Database.Statement<Record<string, unknown>, { doc: string }>;
  count: Database.Statement<Record<string, unknown>, { n: number }>;
}

export function sqliteExecutionRepository(db: SqliteDatabase): ExecutionRepository {
  // Lets the guarded UPDATE below merge the patch into the stored JSON within the one statement.
  db.function('execution_apply_patch', { deterministic: true }, (doc, patch) =>
    JSON.stringify(applyPatch(JSON.parse(doc as string), JSON.parse(patch as string))),
  );

  const sql = {
    insert: db.prepare(
      `INSERT INTO executions (execution_id, user_id, status, lang, created_ms, doc)
       VALUES (@execution_id, @user_id, @status, @lang, @created_ms, @doc)`,
    ),
    get: db.prepare<[string], { doc: string }>('SELECT doc FROM executions WHERE execution_id = ?'),
    transition: db.prepare<Record<string, unknown>, { doc: string }>(
      `UPDATE executions
       SET doc = execution_apply_patch(doc, @patch),
           status = coalesce(@status, status),
           lang = coalesce(@lang, lang),
           created_ms = coalesce(@created_ms, created_ms)
       WHERE execution_id = @execution_id AND status IN (SELECT value FROM json_each(@from))
       RETURNING doc`,
    ),
    delete: db.prepare<[string]>('DELETE FROM executions WHERE execution_id = ?'),
    deleteForUser: db.prepare<[string], { execution_id: string }>(
      'DELETE FROM executions WHERE user_id = ? RETURNING execution_id',
    ),
    countByStatus: db.prepare<[string], { status: ExecutionStatus; n: number }>(
      'SELECT status, COUNT(*) AS n FROM executions WHERE user_id = ? GROUP BY status',
    ),
  };

  // One statement pair per combination of filters, prepared the first time that combination is used.
  const listStatements = new Map<string, ListStatements>();
  const listStatementsFor = (filter: ExecutionFilter): ListStatements => {
    const byUser = filter.userId !== undefined;
    const conditions: string[] = [];
    if (byUser) conditions.push('user_id = @userId');
    // With a user filter the unary `+` keeps the planner on the per-user index, whose rows are few.
    if (filter.status !== undefined) conditions.push(byUser ? '+status = @status' : 'status = @status');
    if (filter.statuses !== undefined)
      conditions.push(`${byUser ? '+' : ''}status IN (SELECT value FROM json_each(@statuses))`);
    if (filter.priority !== undefined) conditions.push("json_extract(doc, '$.priority') = @priority");
    if (filter.lang !== undefined) conditions.push('lang = @lang');
    if (filter.createdFrom !== undefined) conditions.push('created_ms >= @createdFrom');
    if (filter.createdTo !== undefined) conditions.push('created_ms <= @createdTo');
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    let statements = listStatements.get(where);
    if (!statements) {
      statements = {
        page: db.prepare(
          `SELECT doc FROM executions ${where}
           ORDER BY created_ms DESC, execution_id DESC LIMIT @limit OFFSET @skip`,
        ),
        count: db.prepare(`SELECT COUNT(*) AS n FROM executions ${where}`),
      };
      listStatements.set(where, statements);
    }
    return statements;
  };

  // Items and total come from one read transaction, so they agree with each other.
  const readPage = db.transaction(
    (statements: ListStatements, params: Record<string, unknown>, limit: number, skip: number) => ({
      items: statements.page
        .all({ ...params, limit, skip })
        .map((row) => JSON.parse(row.doc) as ExecutionRecord),
      total: statements.count.get(params)!.n,
    }),
  );

  const parse = (found: { doc: string } | undefined) =>
    found ? (JSON.parse(found.doc) as ExecutionRecord) : null;

  return {
    async create(execution) {
      try {
        sql.insert.run({
          execution_id: execution.execution_id,
          user_id: execution.user_id,
          status: execution.status,
          lang: execution.lang,
          created_ms: toMillis(execution.created_at),
          doc: JSON.stringify(execution),
        });
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new ConflictError('Execution already exists', 'execution_id');
        }
        throw error;
      }
    },
    async get(executionId) {
      return parse(sql.get.get(executionId));
    },
    async transition(executionId, from, patch) {
      const { execution_id: _id, user_id: _user, ...changes } = patch as Partial<ExecutionRecord>;
      return parse(
        sql.transition.get({
          execution_id: executionId,
          from: JSON.stringify(from),
          patch: JSON.stringify(changes),
          status: changes.status ?? null,
          lang: changes.lang ?? null,
          created_ms: changes.created_at === undefined ? null : toMillis(changes.created_at),
        }),
      );
    },
    async list(filter, paging) {
      const statements = listStatementsFor(filter);
      const params: Record<string, unknown> = {};
      if (filter.userId !== undefined) params.userId = filter.userId;
      if (filter.status !== undefined) params.status = filter.status;
      if (filter.statuses !== undefined) params.statuses = JSON.stringify(filter.statuses);
      if (filter.priority !== undefined) params.priority = filter.priority;
      if (filter.lang !== undefined) params.lang = filter.lang;
      if (filter.createdFrom !== undefined) params.createdFrom = toMillis(filter.createdFrom);
      if (filter.createdTo !== undefined) params.createdTo = toMillis(filter.createdTo);
      return readPage(statements, params, paging.limit, paging.skip);
    },
    async countByStatus(userId) {
      return Object.fromEntries(sql.countByStatus.all(userId).map((row) => [row.status, row.n]));
    },
    async delete(executionId) {
      return sql.delete.run(executionId).changes > 0;
    },
    async deleteForUser(userId) {
      return sql.deleteForUser.all(userId).map((row) => row.execution_id);
    },
  };
}
