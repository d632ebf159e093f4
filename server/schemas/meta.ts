import { z } from 'zod';
import { jsonObject } from './common.js';

export const blueprintListSchema = z.strictObject({
  items: z.array(z.strictObject({ name: z.string(), description: z.string(), specSchema: jsonObject.describe('JSON Schema of the spec') })),
});

export const healthSchema = z.strictObject({ status: z.literal('ok') });
export const readinessSchema = z.union([
  z.strictObject({
    status: z.enum(['ready', 'not-ready']),
    checks: z.record(z.string(), z.strictObject({ ok: z.boolean(), reason: z.string().optional() })),
  }),
  z.strictObject({ status: z.literal('draining') }),
]);
