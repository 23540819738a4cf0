/**
 * Dead letters: events a function refused or could not take after every retry. Administrators list and
 * inspect them, send one again — onto the bus, where every consumer but the one that failed already
 * holds it as processed and answers it as a duplicate — or discard it. Each retry and discard is audited.
 */
import type { Hono } from 'hono';
import { recordAudit } from '../../shared/audit/record';
import { changedFields } from '../../shared/domain/audit';
import { requireAdmin } from '../../shared/http/auth';
import { HttpError, notFound, validate } from '../../shared/http/errors';
import type { AppEnv } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { DeadLetterListQuerySchema } from './requests';

export const DEAD_LETTERS = '/api/v1/admin/dead-letters';

const MAX_ID_CHARS = 200;

export function addDeadLetterRoutes(app: Hono<AppEnv>, platform: Platform): void {
  const letters = platform.store.deadLetters;

  const letterOf = async (id: string) => {
    const letter = id.length <= MAX_ID_CHARS ? await letters.get(id) : null;
    if (!letter) throw notFound('Dead letter not found');
    return letter;
  };

  app.get(DEAD_LETTERS, async (c) => {
    requireAdmin(c);
    const query = validate(DeadLetterListQuerySchema, c.req.query(), 'query');
    const page = await letters.list(query);
    return c.json({ dead_letters: page.items, total: page.total, limit: query.limit, offset: query.offset });
  });

  app.get(`${DEAD_LETTERS}/:dead_letter_id`, async (c) => {
    requireAdmin(c);
    return c.json(await letterOf(c.req.param('dead_letter_id')));
  });

  app.post(`${DEAD_LETTERS}/:dead_letter_id/retry`, async (c) => {
    const admin = requireAdmin(c);
    const letter = await letterOf(c.req.param('dead_letter_id'));
    if (!letter.event)
      throw new HttpError(409, 'This dead letter holds no event (its body could not be read): discard it');
    await platform.bus.publish(letter.event);
    await letters.delete(letter.dead_letter_id);
    await recordAudit(platform, {
      actor: admin,
      action: 'dead_letter.retry',
      target: { type: 'dead_letter', id: letter.dead_letter_id },
      changes: changedFields(null, { event_id: letter.event_id, subscriber: letter.subscriber }),
    });
    return c.json({
      message: `Event ${letter.event_id} sent again`,
      dead_letter_id: letter.dead_letter_id,
      event_id: letter.event_id,
    });
  });

  app.delete(`${DEAD_LETTERS}/:dead_letter_id`, async (c) => {
    const admin = requireAdmin(c);
    const letter = await letterOf(c.req.param('dead_letter_id'));
    await letters.delete(letter.dead_letter_id);
    await recordAudit(platform, {
      actor: admin,
      action: 'dead_letter.discard',
      target: { type: 'dead_letter', id: letter.dead_letter_id },
      changes: changedFields(null, { event_id: letter.event_id, subscriber: letter.subscriber }),
    });
    return c.body(null, 204);
  });
}
