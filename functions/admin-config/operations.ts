/** The system settings operations as the OpenAPI document publishes them. */
import { SystemSettingsSchema, SystemSettingsUpdateSchema } from '../../shared/domain/system-settings';
import type { OperationGroup } from '../../shared/http/openapi/operation';

const tags = ['admin', 'settings'];

export const adminConfigOperations: OperationGroup = {
  schemas: { SystemSettings: SystemSettingsSchema, SystemSettingsUpdate: SystemSettingsUpdateSchema },
  operations: [
    {
      method: 'get',
      path: '/api/v1/admin/settings/',
      tags,
      summary: 'The system settings in force',
      access: 'admin',
      responses: { 200: { description: 'The settings', schema: SystemSettingsSchema } },
    },
    {
      method: 'put',
      path: '/api/v1/admin/settings/',
      tags,
      summary: 'Change system settings; in force everywhere within seconds',
      access: 'admin',
      body: { json: SystemSettingsUpdateSchema },
      responses: { 200: { description: 'The settings now', schema: SystemSettingsSchema } },
    },
    {
      method: 'post',
      path: '/api/v1/admin/settings/reset',
      tags,
      summary: "Back to the deployment's configuration",
      access: 'admin',
      responses: { 200: { description: 'The settings now', schema: SystemSettingsSchema } },
    },
  ],
};
