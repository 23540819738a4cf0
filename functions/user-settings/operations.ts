/** The user-settings operations as the OpenAPI document publishes them. */
import * as v from 'valibot';
import { UserSettingsSchema as UserSettings } from '../../shared/domain/user-settings';
import type { OperationGroup } from '../../shared/http/openapi/operation';
import {
  CustomKeySchema,
  CustomValueSchema,
  EditorSchema,
  HistoryQuerySchema,
  NotificationsSchema,
  RestoreRequestSchema,
  ThemeRequestSchema,
  UpdateRequestSchema,
} from './requests';

const count = v.pipe(v.number(), v.integer());

const SettingsHistoryResponse = v.object({
  history: v.array(
    v.object({
      timestamp: v.string(),
      event_type: v.literal('user_settings_updated'),
      field: v.string(),
      old_value: v.unknown(),
      new_value: v.unknown(),
      reason: v.nullable(v.string()),
    }),
  ),
  limit: count,
});

const tags = ['user-settings'];
const settings = { 200: { description: 'Your settings as they now are', schema: UserSettings } };

export const userSettingsOperations: OperationGroup = {
  schemas: {
    UserSettings,
    UserSettingsUpdate: UpdateRequestSchema,
    ThemeUpdateRequest: ThemeRequestSchema,
    NotificationSettings: NotificationsSchema,
    EditorSettings: EditorSchema,
    RestoreSettingsRequest: RestoreRequestSchema,
    SettingsHistoryResponse,
  },
  operations: [
    {
      method: 'get',
      path: '/api/v1/user/settings/',
      tags,
      summary: 'Your settings',
      access: 'user',
      responses: settings,
    },
    {
      method: 'put',
      path: '/api/v1/user/settings/',
      tags,
      summary: 'Change any of your settings',
      access: 'user',
      body: { json: UpdateRequestSchema },
      responses: settings,
    },
    {
      method: 'put',
      path: '/api/v1/user/settings/theme',
      tags,
      summary: 'Change the theme',
      access: 'user',
      body: { json: ThemeRequestSchema },
      responses: settings,
    },
    {
      method: 'put',
      path: '/api/v1/user/settings/notifications',
      tags,
      summary: 'Change notification preferences',
      access: 'user',
      body: { json: NotificationsSchema },
      responses: settings,
    },
    {
      method: 'put',
      path: '/api/v1/user/settings/editor',
      tags,
      summary: 'Change editor preferences',
      access: 'user',
      body: { json: EditorSchema },
      responses: settings,
    },
    {
      method: 'get',
      path: '/api/v1/user/settings/history',
      tags,
      summary: 'What changed in your settings, newest first',
      access: 'user',
      query: HistoryQuerySchema,
      responses: { 200: { description: 'The changes', schema: SettingsHistoryResponse } },
    },
    {
      method: 'post',
      path: '/api/v1/user/settings/restore',
      tags,
      summary: 'Go back to your settings as they were at a time',
      access: 'user',
      body: { json: RestoreRequestSchema },
      responses: settings,
    },
    {
      method: 'put',
      path: '/api/v1/user/settings/custom/{key}',
      tags,
      summary: 'Set one custom setting',
      access: 'user',
      params: v.object({ key: CustomKeySchema }),
      body: { json: CustomValueSchema },
      responses: settings,
    },
  ],
};
