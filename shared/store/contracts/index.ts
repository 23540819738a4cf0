/** Contract suites of the persistence ports; every adapter runs all of them. */
import { describeApiKeyRepositoryContract } from './api-keys.contract';
import { describeAuditLogRepositoryContract } from './audit-log.contract';
import { describeDeadLetterRepositoryContract } from './dead-letters.contract';
import { describeEventStoreContract } from './events.contract';
import { describeExecutionRepositoryContract } from './executions.contract';
import type { MakeRepositories } from './fixtures';
import { describeNotificationDeliveryRepositoryContract } from './notification-deliveries.contract';
import { describeNotificationSubscriptionRepositoryContract } from './notification-subscriptions.contract';
import { describeNotificationRepositoryContract } from './notifications.contract';
import { describeSavedScriptRepositoryContract } from './saved-scripts.contract';
import { describeSessionRepositoryContract } from './sessions.contract';
import { describeSystemSettingsRepositoryContract } from './system-settings.contract';
import { describeUserSettingsRepositoryContract } from './user-settings.contract';
import { describeUserRepositoryContract } from './users.contract';

export type { MakeRepositories } from './fixtures';
export {
  describeApiKeyRepositoryContract,
  describeAuditLogRepositoryContract,
  describeDeadLetterRepositoryContract,
  describeEventStoreContract,
  describeExecutionRepositoryContract,
  describeNotificationDeliveryRepositoryContract,
  describeNotificationRepositoryContract,
  describeNotificationSubscriptionRepositoryContract,
  describeSavedScriptRepositoryContract,
  describeSessionRepositoryContract,
  describeSystemSettingsRepositoryContract,
  describeUserRepositoryContract,
  describeUserSettingsRepositoryContract,
};

export function describeRepositoriesContract(adapterName: string, make: MakeRepositories): void {
  describeUserRepositoryContract(adapterName, make);
  describeSessionRepositoryContract(adapterName, make);
  describeExecutionRepositoryContract(adapterName, make);
  describeNotificationRepositoryContract(adapterName, make);
  describeNotificationSubscriptionRepositoryContract(adapterName, make);
  describeNotificationDeliveryRepositoryContract(adapterName, make);
  describeSavedScriptRepositoryContract(adapterName, make);
  describeUserSettingsRepositoryContract(adapterName, make);
  describeEventStoreContract(adapterName, make);
  describeDeadLetterRepositoryContract(adapterName, make);
  describeApiKeyRepositoryContract(adapterName, make);
  describeAuditLogRepositoryContract(adapterName, make);
  describeSystemSettingsRepositoryContract(adapterName, make);
}
