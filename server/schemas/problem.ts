import { z } from 'zod';
import { traceIdSchema } from './common.js';

export const fieldIssueSchema = z.strictObject({
  field: z.string().describe('Dotted path into the body, query.<name>, header.<Name>, or the path parameter'),
  rule: z.string(),
  message: z.string(),
  limit: z.int().optional().describe("A quota's limit (403, quota.* rules)"),
  usage: z.int().optional().describe('What the team holds against that limit, before the request'),
});

/** Every refusal and failure, as server/problem.ts and server/error-handler.ts write it. */
export const problemSchema = z
  .strictObject({
    type: z.string().describe('urn:clusterd:problem:<slug>'),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    instance: z.string().describe('The request path and query'),
    errors: z
      .array(fieldIssueSchema)
      .optional()
      .describe('400: each field and the rule it breaks; 403: each policy rule or quota the request breaks'),
    traceId: traceIdSchema.optional().describe("The request's trace (W3C trace id), when the service traces"),
  })
  .describe('RFC 9457 problem document');
