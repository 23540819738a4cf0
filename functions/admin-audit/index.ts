import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createAdminAuditApp } from './app';

export const adminAuditFunction: FunctionDefinition = {
  name: 'admin-audit',
  routes: [BASE],
  triggers: [],
  createApp: createAdminAuditApp,
};
