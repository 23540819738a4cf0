/** The audit log operation as the OpenAPI document publishes it (beyond the reference API). */
import * as v from 'valibot';
import { AuditEntrySchema } from '../../shared/domain/audit';
import type { OperationGroup } from '../../shared/http/openapi/operation';
import { AuditQuerySchema } from './requests';

const count = v.pipe(v.number(), v.integer());
const AuditLogResponse = v.object({
  entries: v.array(AuditEntrySchema),
  total: count,
  limit: count,
  offset: count,
});

export const adminAuditOperations: OperationGroup = {
  schemas: { AuditEntry: AuditEntrySchema, AuditLogResponse },
  operations: [
    {
      method: 'get',
      path: '/api/v1/admin/audit',
      tags: ['admin', 'audit'],
      summary: "Administrators' changes, newest first",
      access: 'admin',
      query: AuditQuerySchema,
      responses: { 200: { description: 'A page of entries', schema: AuditLogResponse } },
    },
  ],
};
