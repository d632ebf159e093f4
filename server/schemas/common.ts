/**
 * Pieces every answer is made of. The answers are zod schemas: the OpenAPI description's response
 * schemas are generated from them, and the views that build the answers (server/views.ts) are typed
 * by them, so that the compiler holds the answers to the description. Objects are strict: a field
 * added to an answer must be described.
 */
import { z } from 'zod';

/** An instant as the records print it: ISO-8601 in UTC. */
export const instant = z.iso.datetime();
export const count = z.int().min(0);
/** A JSON object whose shape the answer does not fix (a spec, stack outputs, event data). */
export const jsonObject = z.record(z.string(), z.unknown());

/** A W3C trace id: 32 lowercase hex digits, as tracing back ends search by. */
export const traceIdSchema = z.string().regex(/^[0-9a-f]{32}$/);

export const nextCursor = z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page');

/** A page of a list: its items, and where the next page starts. */
export function pageOf<Item extends z.ZodType>(item: Item) {
  return z.strictObject({ items: z.array(item), nextCursor });
}
