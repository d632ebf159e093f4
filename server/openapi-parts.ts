/**
 * Building blocks of the OpenAPI description: JSON Schema from zod, the answers every route may give
 * (problems, their headers), and operations assembled from what a route really does (path
 * parameters, Idempotency-Key, a body, a secret), so that each route lists exactly the statuses and
 * headers it can answer.
 */
import { z } from 'zod';
import { AUTH_REALM } from './problem.js';

type Json = Record<string, unknown>;

/** The JSON Schema of a request part (draft 2020-12, as OpenAPI 3.1 reads it). */
export function requestSchema(s: z.ZodType): Json {
  const { $schema: _dialect, ...json } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  return json;
}

/** Response schemas by component name, each referring to the others by `$ref` rather than inlining them. */
export function responseSchemas(named: Record<string, z.ZodType>): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, s] of Object.entries(named)) registry.add(s, { id });
  const { schemas } = z.toJSONSchema(registry, { io: 'output', target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}` });
  // `$id` with a fragment is not a valid schema id; the component's name is its address.
  return Object.fromEntries(Object.entries(schemas).map(([id, { $id: _id, $schema: _dialect, ...json }]) => [id, json]));
}

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Query and path parameters, from the same zod objects that validate them. */
export function parameters(s: z.ZodObject, where: 'query' | 'path') {
  const json = requestSchema(s) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: p,
    ...(p.description ? { description: p.description } : {}),
  }));
}

export const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]{1,255}$' },
  description:
    'A retried request with the same key returns the first answer and queues nothing new, for RETENTION_IDEMPOTENCY_KEYS (24 h by default) after that answer; later the key is new',
};

const header = (schema: Json, description: string, required = true) => ({ schema, description, required });
const retryAfter = { 'Retry-After': header({ type: 'integer', minimum: 1 }, 'Seconds to wait before trying again') };
const location = (description: string) => ({ Location: header({ type: 'string' }, description) });
const replayed = {
  'Idempotent-Replayed': header({ const: 'true' }, 'This is the stored answer to an earlier request with the same Idempotency-Key', false),
};

/** What `/v1` answers say about caching (docs/api.md, "Headers on every answer"). */
const cacheControl = {
  private: {
    'Cache-Control': header(
      { const: 'private, no-cache' },
      "One caller's view of live state: a private copy only, asked for again before reuse",
    ),
  },
  secret: { 'Cache-Control': header({ const: 'no-store' }, 'The route hands out a secret: never stored, errors included') },
};

/** The statuses a route may answer with a problem document. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

const problemHeaders: Partial<Record<ProblemStatus, Json>> = {
  401: {
    'WWW-Authenticate': header(
      { type: 'string', pattern: `^Bearer realm="${AUTH_REALM}"` },
      `Bearer realm="${AUTH_REALM}", with error="invalid_token" when the token given is unknown, expired or revoked (RFC 6750)`,
    ),
  },
  429: retryAfter,
  503: retryAfter,
};

const problemWhy: Record<ProblemStatus, string> = {
  400: 'Invalid input: names each field and rule (see docs/api.md, input rules)',
  401: 'No valid bearer token',
  403: 'Needs an admin token',
  404: 'Not found, or not visible to this token',
  409: 'Conflicts with the current state',
  413: 'Body larger than MAX_BODY_BYTES',
  415: 'The body is in a charset other than UTF-8, or in a Content-Encoding the server does not decode (gzip, deflate and br are decoded, and zstd on a Node that has it)',
  422: 'Idempotency-Key reused with a different request',
  429: 'Too many failed authentications from this client address (RATE_LIMIT_AUTH_FAILURES); a valid token is still served',
  503: 'Temporarily unavailable: the record store does not answer (restarting, out of reach); try again after Retry-After',
};

/** One answer: a description, a body (by media type) and headers. */
export interface Answer {
  description: string;
  content?: Record<string, { schema: unknown }>;
  headers?: Json;
  links?: Json;
}

export const json = (description: string, schema: unknown, extra: Omit<Answer, 'description' | 'content'> = {}): Answer => ({
  description,
  content: { 'application/json': { schema } },
  ...extra,
});
export const created = (description: string, schema: unknown, where: string, links?: Json): Answer =>
  json(description, schema, { headers: location(where), ...(links ? { links } : {}) });

/** What a `/v1` route does, as far as its answers are concerned. */
export interface RouteSpec {
  operationId: string;
  summary: string;
  parameters?: unknown[];
  /** The request body's schema, when the route takes one (adds 413 and 415). */
  body?: unknown;
  /** The body may be left out. @defaultValue false */
  bodyOptional?: boolean;
  /** Goes through the Idempotency-Key middleware (adds the header, 409 for a retry in flight, 422). */
  idempotent?: boolean;
  /** Hands out a secret: every answer says Cache-Control: no-store. */
  secret?: boolean;
  /** Successful answers by status. */
  ok: Record<number, Answer>;
  /** Problem answers this route gives besides 400, 401, 429 and 503 (every `/v1` route), with why when not the usual. */
  problems?: Partial<Record<ProblemStatus, string | undefined>>;
}

/** Puts every operation of `paths` under `tag`. */
export function tagged<Paths extends Record<string, Record<string, object>>>(tag: string, paths: Paths): Paths {
  const tag1 = (operations: Record<string, object>) =>
    Object.fromEntries(Object.entries(operations).map(([method, operation]) => [method, { tags: [tag], ...operation }]));
  return Object.fromEntries(Object.entries(paths).map(([path, operations]) => [path, tag1(operations)])) as Paths;
}

/** An authenticated `/v1` operation: its own answers and every problem it can answer, each with the headers it carries. */
export function route(spec: RouteSpec) {
  const caching = spec.secret ? cacheControl.secret : cacheControl.private;
  const problems: Partial<Record<ProblemStatus, string | undefined>> = {
    400: undefined,
    401: undefined,
    429: undefined,
    503: undefined,
    ...spec.problems,
  };
  if (spec.body !== undefined) {
    problems[413] ??= undefined;
    problems[415] ??= undefined;
  }
  if (spec.idempotent) {
    problems[409] = [problems[409], 'a request with this Idempotency-Key is still being handled'].filter(Boolean).join('; or ');
    problems[422] ??= undefined;
  }
  const responses: Record<string, Answer> = {};
  for (const [status, answer] of Object.entries(spec.ok)) {
    responses[status] = { ...answer, headers: { ...answer.headers, ...caching, ...(spec.idempotent ? replayed : {}) } };
  }
  for (const [status, why] of Object.entries(problems) as Array<[string, string | undefined]>) {
    const code = Number(status) as ProblemStatus;
    responses[status] = {
      description: why ?? problemWhy[code],
      content: { 'application/problem+json': { schema: ref('Problem') } },
      headers: { ...problemHeaders[code], ...caching, ...(spec.idempotent ? replayed : {}) },
    };
  }
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    parameters: [...(spec.parameters ?? []), ...(spec.idempotent ? [idempotencyKeyHeader] : [])],
    ...(spec.body !== undefined
      ? { requestBody: { required: !spec.bodyOptional, content: { 'application/json': { schema: spec.body } } } }
      : {}),
    responses,
  };
}

const READ_METHODS = new Set(['get', 'head', 'options']);
const VIEWER_REFUSED = 'the token is a viewer’s: read-only, it changes nothing';

/**
 * Every `/v1` operation but a read answers 403 to a viewer's token, before its route runs
 * (server/auth.ts): adds that 403 to each, or says it in the 403 a route has already. It carries the
 * headers of the route's 400, which every `/v1` route answers: the same problem, the same caching.
 */
export function refusedToViewers<Paths extends Record<string, Record<string, { responses?: Record<string, Answer> }>>>(
  paths: Paths,
): Paths {
  const refusing = (method: string, operation: { responses?: Record<string, Answer> }) => {
    const responses = operation.responses;
    if (READ_METHODS.has(method) || !responses?.[400]) return operation;
    const own = responses[403];
    const description = own ? `${own.description}; or ${VIEWER_REFUSED}` : VIEWER_REFUSED[0]!.toUpperCase() + VIEWER_REFUSED.slice(1);
    return { ...operation, responses: { ...responses, 403: { ...(own ?? responses[400]), description } } };
  };
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [
      path,
      path.startsWith('/v1/') ? Object.fromEntries(Object.entries(item).map(([method, op]) => [method, refusing(method, op)])) : item,
    ]),
  ) as Paths;
}

/** The 403 of a request a team's policy or quota refuses. */
export const policyRefusal =
  "Refused by the team's policy or quota (urn:clusterd:problem:team-policy): `errors` names each rule (policy.regions, quota.maxNodes, …), with a quota's limit and usage";
