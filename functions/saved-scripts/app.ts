/**
 * saved-scripts: a user's own collection of scripts — list, save, read, change, delete. Everyone, admins
 * included, sees only their own; anyone else's id answers 404 as if it did not exist (as the reference).
 */
import type { Context } from 'hono';
import { type SavedScriptPatch, toSavedScriptResponse } from '../../shared/domain/saved-script';
import { resolveRuntime } from '../../shared/executions/submission';
import { currentUser } from '../../shared/http/auth';
import { conflict, notFound, readJson, validate } from '../../shared/http/errors';
import { type AppEnv, createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { CreateRequestSchema, ListQuerySchema, MAX_SCRIPTS_PER_USER, UpdateRequestSchema } from './requests';

export const BASE = '/api/v1/scripts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Script ids are UUIDs; any other id cannot exist, so it is a 404 without asking the store. */
function scriptIdOf(c: Context<AppEnv>): string {
  const id = c.req.param('script_id') ?? '';
  if (!UUID.test(id)) throw scriptNotFound(id);
  return id.toLowerCase();
}

const scriptNotFound = (id: string) => notFound(`Script ${id.slice(0, 100)} not found`);

export function createSavedScriptsApp(platform: Platform) {
  const app = createFunctionApp(platform, 'saved-scripts');
  const repository = platform.store.savedScripts;

  app.get(BASE, async (c) => {
    const user = currentUser(c);
    const query = validate(ListQuerySchema, c.req.query(), 'query');
    const page = await repository.list(user.user_id, query);
    return c.json({
      scripts: page.items.map(toSavedScriptResponse),
      total: page.total,
      limit: query.limit,
      offset: query.offset,
    });
  });

  app.post(BASE, async (c) => {
    const user = currentUser(c);
    const request = validate(CreateRequestSchema, await readJson(c), 'body');
    const runtime = resolveRuntime(platform, request.lang, request.lang_version ?? undefined);
    const { total } = await repository.list(user.user_id, { limit: 0, offset: 0 });
    if (total >= MAX_SCRIPTS_PER_USER)
      throw conflict(
        `You already keep ${MAX_SCRIPTS_PER_USER.toLocaleString('en')} saved scripts, the most one account may; delete some first`,
      );
    const now = platform.now().toISOString();
    const script = {
      script_id: crypto.randomUUID(),
      user_id: user.user_id,
      name: request.name,
      script: request.script,
      lang: runtime.lang,
      lang_version: runtime.version,
      description: request.description ?? null,
      created_at: now,
      updated_at: now,
    };
    await repository.create(script);
    return c.json(toSavedScriptResponse(script));
  });

  app.get(`${BASE}/:script_id`, async (c) => {
    const user = currentUser(c);
    const id = scriptIdOf(c);
    const script = await repository.get(id);
    if (!script || script.user_id !== user.user_id) throw scriptNotFound(id);
    return c.json(toSavedScriptResponse(script));
  });

  app.put(`${BASE}/:script_id`, async (c) => {
    const user = currentUser(c);
    const id = scriptIdOf(c);
    const request = validate(UpdateRequestSchema, await readJson(c), 'body');
    const current = await repository.get(id);
    if (!current || current.user_id !== user.user_id) throw scriptNotFound(id);

    const patch: SavedScriptPatch = {
      name: request.name ?? undefined,
      script: request.script ?? undefined,
      description: request.description ?? undefined,
    };
    // A runtime is checked only when it changes, so a script whose runtime went away can still be renamed.
    if (request.lang != null || request.lang_version != null) {
      const lang = request.lang ?? current.lang;
      const keepVersion = lang === current.lang ? current.lang_version : undefined;
      const runtime = resolveRuntime(platform, lang, request.lang_version ?? keepVersion);
      patch.lang = runtime.lang;
      patch.lang_version = runtime.version;
    }
    if (Object.values(patch).every((value) => value === undefined))
      return c.json(toSavedScriptResponse(current));
    const updated = await repository.update(user.user_id, id, {
      ...patch,
      updated_at: platform.now().toISOString(),
    });
    if (!updated) throw scriptNotFound(id);
    return c.json(toSavedScriptResponse(updated));
  });

  app.delete(`${BASE}/:script_id`, async (c) => {
    const user = currentUser(c);
    const id = scriptIdOf(c);
    if (!(await repository.delete(user.user_id, id))) throw scriptNotFound(id);
    return c.body(null, 204);
  });

  return app;
}
