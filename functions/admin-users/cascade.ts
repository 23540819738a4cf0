/**
 * Deleting a user. The account is deactivated first, which ends every session and stops new sign-ins
 * while the rest goes; with `cascade` their executions (running ones cancelled first, so no sandbox
 * keeps running for a deleted account), saved scripts, notifications and deliveries, settings with
 * their history, notification subscriptions and events follow; the account record goes last, so a delete that fails part way can simply be repeated.
 */
import * as v from 'valibot';
import { clearLoginFailures } from '../../shared/auth/lockout';
import { changeUserAccess } from '../../shared/auth/sessions';
import type { ExecutionRecord, ExecutionStatus } from '../../shared/domain/execution';
import type { Principal, UserRecord } from '../../shared/domain/user';
import { requestCancellation } from '../../shared/executions/cancellation';
import type { Platform } from '../../shared/platform/platform';

const count = v.pipe(v.number(), v.integer());

/** `DeleteUserResponse`: what went, by kind. */
export const DeletedCountsSchema = v.object({
  user_deleted: v.boolean(),
  executions: count,
  saved_scripts: count,
  /** In-app notifications and webhook/Slack deliveries. */
  notifications: count,
  /** Saved settings (with their history) and notification subscriptions. */
  user_settings: count,
  events: count,
  /** This platform keeps no sagas: always 0, kept for the reference's shape. */
  sagas: count,
});
export type DeletedCounts = v.InferOutput<typeof DeletedCountsSchema>;

const IN_FLIGHT: readonly ExecutionStatus[] = ['queued', 'scheduled', 'running'];
const PAGE = 500;

/** Asks run-pod to stop every execution of the user that has not finished. */
async function cancelInFlight(platform: Platform, user: UserRecord, admin: Principal): Promise<void> {
  // All are found before any is cancelled: a cancelled one leaves its status, which would shift the pages.
  const inFlight: ExecutionRecord[] = [];
  for (const status of IN_FLIGHT) {
    for (let skip = 0; ; skip += PAGE) {
      const { items } = await platform.store.executions.list(
        { userId: user.user_id, status },
        { limit: PAGE, skip },
      );
      inFlight.push(...items);
      if (items.length < PAGE) break;
    }
  }
  for (const execution of inFlight)
    await requestCancellation(
      platform,
      execution,
      admin.user_id,
      'The account was deleted by an administrator',
    );
}

export async function deleteUser(
  platform: Platform,
  user: UserRecord,
  admin: Principal,
  options: { cascade: boolean },
): Promise<DeletedCounts> {
  const { store } = platform;
  await changeUserAccess(platform, user.user_id, { is_active: false });
  await clearLoginFailures(platform, user.username);
  const counts: DeletedCounts = {
    user_deleted: false,
    executions: 0,
    saved_scripts: 0,
    notifications: 0,
    user_settings: 0,
    events: 0,
    sagas: 0,
  };
  if (options.cascade) {
    await cancelInFlight(platform, user, admin);
    const executionIds = await store.executions.deleteForUser(user.user_id);
    counts.executions = executionIds.length;
    counts.saved_scripts = await store.savedScripts.deleteForUser(user.user_id);
    counts.notifications =
      (await store.notifications.deleteForUser(user.user_id)) +
      (await store.notificationDeliveries.deleteForUser(user.user_id));
    // Subscriptions hold the user's webhook URLs and signing secrets: they must not outlive the account.
    counts.user_settings =
      (await store.userSettings.deleteForUser(user.user_id)) +
      (await store.notificationSubscriptions.deleteForUser(user.user_id));
    // The account's own events (sign-ins, failures) are keyed by its id.
    counts.events = await store.events.deleteForUser(user.user_id, [user.user_id, ...executionIds]);
  }
  // Keys are credentials: they go with the account even when its data stays.
  await store.apiKeys.deleteForUser(user.user_id);
  counts.user_deleted = await store.users.delete(user.user_id);
  return counts;
}
