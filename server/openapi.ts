import { z } from 'zod';
import type { Blueprint } from '../src/blueprints/blueprint.js';
import { CLUSTER_STATUSES } from '../src/domain/cluster.js';
import { OPERATION_KINDS, OPERATION_STATUSES } from '../src/domain/operation.js';
import { DEFAULT_MAX_DEPTH } from '../src/lifecycle/json-guard.js';
import { clusterNameParam, createClusterBody, kubeconfigReadsQuery, listClustersQuery, listOperationsQuery, operationIdParam, updateClusterBody } from '../src/lifecycle/requests.js';
import { DELIVERY_STATUSES } from '../src/domain/webhook.js';
import { PING_EVENT, WEBHOOK_EVENT_TYPES } from '../src/webhooks/events.js';
import { createWebhookBody, listDeliveriesQuery, webhookIdParam } from '../src/webhooks/requests.js';
import { WEBHOOK_EVENT_HEADER, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../src/webhooks/signature.js';
import { createTokenBody } from './routes/tokens.js';
import { AUTH_REALM } from './problem.js';
import { driftHistoryQuery, fleetDriftQuery, sweepIdParam } from './routes/drift.js';
import { eventsQuery, lastEventIdHeader } from './stream-position.js';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Query and path parameters, from the same zod objects that validate them. */
function parameters(s: z.ZodObject, where: 'query' | 'path') {
  const json = schema(s) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, p]) => ({
    name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: p, ...(p.description ? { description: p.description } : {}),
  }));
}

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const json = (description: string, s: unknown) => ({ description, content: { 'application/json': { schema: s } } });
const retryAfter = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } };
/** An answer that tells the caller when to come back. */
const later = (description: string) => ({ ...problem(description), headers: retryAfter });
const unauthorized = {
  ...problem('No valid token'),
  headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: `Bearer realm="${AUTH_REALM}", with error="invalid_token" when the token given is unknown or revoked (RFC 6750)` } },
};
const errors = {
  400: problem('Invalid input: names the field and the rule'), 401: unauthorized, 404: problem('Not found or not visible to this token'),
  429: later('Too many failed authentications from this client address (RATE_LIMIT_AUTH_FAILURES); a valid token is still served'),
};
const noStoreHeader = { 'Cache-Control': { schema: { const: 'no-store' }, description: 'The answer carries a secret: never cached' } };
const acceptedResponse = {
  202: { ...json('Accepted: the operation is queued', ref('Accepted')), headers: { Location: { schema: { type: 'string' }, description: 'The operation' } } },
  422: problem('Idempotency-Key reused with a different request'),
};
const idempotencyKey = { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]{1,255}$' }, description: 'A retried request with the same key returns the first answer and queues nothing new, for RETENTION_IDEMPOTENCY_KEYS (24 h by default) after that answer; later the key is new' };

/** The OpenAPI 3.1 description, generated from the schemas that validate requests. */
export function buildOpenApi(blueprints: Blueprint<any>[], maxBodyDepth = DEFAULT_MAX_DEPTH) {
  const name = parameters(clusterNameParam, 'path');
  const id = parameters(operationIdParam, 'path');
  const webhookId = parameters(webhookIdParam, 'path');
  const inspect = (summary: string) => ({ post: { summary, parameters: [...name, idempotencyKey], responses: { ...acceptedResponse, ...errors, 409: problem('Cluster destroyed or a destroy is pending') } } });
  return {
    openapi: '3.1.0',
    info: { title: 'clusterd', version: '1', description: `Self-service Kubernetes cluster lifecycle over the Pulumi Automation API. Every change is an operation to poll, stream and cancel. Every JSON body is refused (400) when it nests arrays and objects deeper than ${maxBodyDepth} levels, holds a __proto__, constructor or prototype key anywhere, a NUL character (U+0000) or a lone surrogate in any string or key, or a number too large to be finite; query values may not hold NUL either. Authenticated answers carry Cache-Control: private, no-cache, except those with a secret (no-store).` },
    security: [{ bearer: [] }],
    paths: {
      '/v1/clusters': {
        post: { summary: 'Create a cluster (queues a provision)', parameters: [idempotencyKey], requestBody: { required: true, content: { 'application/json': { schema: ref('CreateClusterRequest') } } }, responses: { ...acceptedResponse, ...errors, 409: problem('A cluster with that name exists'), 413: problem('Body too large') } },
        get: { summary: 'List clusters', parameters: parameters(listClustersQuery, 'query'), responses: { 200: json('A page of clusters', { type: 'object', properties: { items: { type: 'array', items: ref('Cluster') }, nextCursor: { type: ['string', 'null'] } } }), ...errors } },
      },
      '/v1/clusters/{name}': {
        get: { summary: 'Read a cluster', parameters: name, responses: { 200: json('The cluster', ref('Cluster')), ...errors } },
        patch: { summary: 'Change the desired spec (JSON merge patch; queues an update) and/or the drift policy and expiry (200, no operation)', parameters: [...name, idempotencyKey], requestBody: { required: true, content: { 'application/json': { schema: ref('UpdateClusterRequest') } } }, responses: { 200: json('Only settings changed: done, no operation', { type: 'object', properties: { cluster: ref('Cluster'), operation: { type: 'null' } } }), ...acceptedResponse, ...errors, 409: problem('Cluster destroyed or a destroy is pending'), 413: problem('Body too large') } },
        delete: { summary: 'Destroy a cluster; the stack is removed when the destroy succeeds', parameters: [...name, idempotencyKey], responses: { ...acceptedResponse, ...errors, 409: problem('Already destroyed or a destroy is pending') } },
      },
      '/v1/clusters/{name}/preview': inspect('Preview the planned changes without applying them'),
      '/v1/clusters/{name}/refresh': inspect('Refresh the state from the live resources'),
      '/v1/clusters/{name}/drift-check': inspect('Compare the live resources with the state, and the state with the desired spec; writes nothing, takes no lock'),
      '/v1/clusters/{name}/kubeconfig': { get: { summary: "The cluster's kubeconfig (a secret stack output, decrypted); the read is recorded. Reads of the state are bounded per API process and shared for a few seconds (KUBECONFIG_*)", parameters: name, responses: { 200: { ...json('The kubeconfig (Cache-Control: no-store)', { type: 'object', properties: { kubeconfig: { type: 'string' } } }), headers: noStoreHeader }, ...errors, 503: later('Every state reader stayed busy, or the read took longer than KUBECONFIG_READ_TIMEOUT_MS') } } },
      '/v1/clusters/{name}/kubeconfig/reads': { get: { summary: 'Who read the kubeconfig, and when, newest first', parameters: [...name, ...parameters(kubeconfigReadsQuery, 'query')], responses: { 200: json('Reads', { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { readBy: { type: 'string' }, readAt: { type: 'string' } } } } } }), ...errors } } },
      '/v1/clusters/{name}/remediate': inspect('Bring a drifted cluster back to its desired spec (an update with refresh)'),
      '/v1/clusters/{name}/drift': { get: { summary: "A cluster's latest drift report and its history, newest first", parameters: [...name, ...parameters(driftHistoryQuery, 'query')], responses: { 200: json('Latest report and a page of reports', { type: 'object', properties: { latest: { oneOf: [ref('DriftReport'), { type: 'null' }] }, items: { type: 'array', items: ref('DriftReport') }, nextCursor: { type: ['string', 'null'] } } }), ...errors } } },
      '/v1/drift': { get: { summary: 'Fleet drift summary from each live cluster\'s latest check (a team token sees its team)', parameters: parameters(fleetDriftQuery, 'query'), responses: { 200: json('Counts: clusters, checked, clean, drifted, failed, neverChecked; also byTeam and byBlueprint', { type: 'object' }), ...errors } } },
      '/v1/drift/sweeps': { post: { summary: 'Run a fleet drift sweep now (admin)', responses: { 202: json('The sweep, running', ref('DriftSweep')), ...errors, 403: problem('Needs an admin token'), 409: problem('A sweep is still running'), 429: later('Too many manual sweeps with this token (RATE_LIMIT_DRIFT_SWEEPS), or too many failed authentications') } } },
      '/v1/drift/sweeps/{id}': { get: { summary: 'A sweep\'s progress and results (admin)', parameters: parameters(sweepIdParam, 'path'), responses: { 200: json('The sweep', ref('DriftSweep')), ...errors } } },
      '/v1/clusters/{name}/operations': { get: { summary: "A cluster's operation history, newest first", parameters: [...name, ...parameters(listOperationsQuery, 'query')], responses: { 200: json('A page of operations', { type: 'object', properties: { items: { type: 'array', items: ref('Operation') }, nextCursor: { type: ['string', 'null'] } } }), ...errors } } },
      '/v1/operations/{id}': { get: { summary: 'Read an operation', parameters: id, responses: { 200: json('The operation', ref('Operation')), ...errors } } },
      '/v1/operations/{id}/events': { get: { summary: 'Server-Sent Events: engine events and log lines; resume with Last-Event-ID', parameters: [...id, ...parameters(eventsQuery, 'query'), lastEventIdHeader], responses: { 200: { description: 'text/event-stream; events `engine`, `log`, `status`, then `end` (an operation finished longer ago than RETENTION_OPERATION_EVENTS, 30 days by default, has only `end`); a stream open when the server shuts down ends with a `shutdown` event instead (data `{reason, resumeAfter}`): resume with Last-Event-ID', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors, 429: later('This token holds its most open streams (STREAMS_MAX_PER_TOKEN), the server holds its most (STREAMS_MAX_PER_PROCESS), or too many failed authentications') } } },
      '/v1/operations/{id}/cancel': { post: { summary: 'Cancel: a queued operation never runs; a running one is cancelled through the engine', parameters: [...id, idempotencyKey], responses: { 202: json('The operation', ref('Operation')), ...errors, 409: problem('Already finished') } } },
      '/v1/blueprints': { get: { summary: 'Blueprints and their spec schemas', responses: { 200: json('Blueprints', { type: 'object' }), 400: errors[400], 401: unauthorized, 429: errors[429] } } },
      '/v1/tokens': { post: { summary: 'Issue a token (admin); the value is shown once', requestBody: { required: true, content: { 'application/json': { schema: ref('CreateTokenRequest') } } }, responses: { 201: { ...json('The token; its value is shown only here', { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' }, team: { type: ['string', 'null'] }, admin: { type: 'boolean' }, token: { type: 'string' } } }), headers: noStoreHeader }, ...errors, 403: problem('Needs an admin token'), 413: problem('Body too large') } } },
      '/v1/webhooks': {
        post: { summary: `Subscribe a URL to events; the answer carries the signing secret, shown once. Deliveries are POSTed with ${WEBHOOK_ID_HEADER}, ${WEBHOOK_TIMESTAMP_HEADER}, ${WEBHOOK_SIGNATURE_HEADER} (v1=HMAC-SHA256 of "<timestamp>.<body>") and ${WEBHOOK_EVENT_HEADER}`, requestBody: { required: true, content: { 'application/json': { schema: ref('CreateWebhookRequest') } } }, responses: { 201: { ...json('The subscription and its signingSecret', { allOf: [ref('Webhook'), { type: 'object', properties: { signingSecret: { type: 'string' } } }] }), headers: { Location: { schema: { type: 'string' } }, ...noStoreHeader } }, ...errors, 413: problem('Body too large') } },
        get: { summary: "Subscriptions: a team token sees its team's, an admin token all", responses: { 200: json('Subscriptions', { type: 'object', properties: { items: { type: 'array', items: ref('Webhook') } } }), ...errors } },
      },
      '/v1/webhooks/{id}': {
        get: { summary: 'Read a subscription (never its secret)', parameters: webhookId, responses: { 200: json('The subscription', ref('Webhook')), ...errors } },
        delete: { summary: 'Delete a subscription and its delivery log; pending deliveries are dropped', parameters: webhookId, responses: { 204: { description: 'Deleted' }, ...errors } },
      },
      '/v1/webhooks/{id}/deliveries': { get: { summary: 'Deliveries, newest first, each with every attempt', parameters: [...webhookId, ...parameters(listDeliveriesQuery, 'query')], responses: { 200: json('A page of deliveries', { type: 'object', properties: { items: { type: 'array', items: ref('WebhookDelivery') }, nextCursor: { type: ['string', 'null'] } } }), ...errors } } },
      '/v1/webhooks/{id}/test': { post: { summary: 'Send a ping event to this subscription', parameters: webhookId, responses: { 202: json('The queued delivery', ref('WebhookDelivery')), ...errors, 429: later('Too many test pings with this token (RATE_LIMIT_WEBHOOK_TESTS), or too many failed authentications') } } },
      '/healthz': { get: { summary: 'Alive', security: [], responses: { 200: { description: 'The process answers' } } } },
      '/readyz': { get: { summary: 'Ready: record store, Redis and the Pulumi CLI usable', security: [], responses: { 200: { description: 'Ready' }, 503: { description: 'A dependency is not usable, or the process is shutting down (`{"status": "draining"}`)' } } } },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        CreateClusterRequest: schema(createClusterBody),
        UpdateClusterRequest: schema(updateClusterBody),
        CreateTokenRequest: schema(createTokenBody),
        CreateWebhookRequest: schema(createWebhookBody),
        ...Object.fromEntries(blueprints.map((b) => [`Spec_${b.name}`, schema(b.specSchema)])),
        Problem: { type: 'object', required: ['type', 'title', 'status', 'detail'], properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, instance: { type: 'string' }, errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, rule: { type: 'string' }, message: { type: 'string' } } } } } },
        Cluster: { type: 'object', properties: { name: { type: 'string' }, team: { type: 'string' }, blueprint: { type: 'string' }, labels: { type: 'object' }, status: { enum: [...CLUSTER_STATUSES] }, spec: { type: 'object' }, generation: { type: 'integer' }, appliedSpec: { type: ['object', 'null'] }, appliedGeneration: { type: ['integer', 'null'] }, outputs: { type: 'object', description: 'Stack outputs; secret ones read "[secret]"' }, lastOperation: { type: ['object', 'null'] }, driftPolicy: { enum: ['none', 'notify', 'auto'] }, expiresAt: { type: ['string', 'null'], format: 'date-time' }, createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' } } },
        Operation: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, cluster: { type: 'string' }, team: { type: 'string' }, kind: { enum: [...OPERATION_KINDS] }, status: { enum: [...OPERATION_STATUSES] }, generation: { type: 'integer' }, requestedBy: { type: 'string' }, cancelRequested: { type: 'boolean' }, attempts: { type: 'integer' }, queuedAt: { type: 'string' }, startedAt: { type: ['string', 'null'] }, finishedAt: { type: ['string', 'null'] }, summary: { type: ['object', 'null'], description: 'counts (create, update, replace, delete, same) and resources (urn, type, name, op, properties)' }, error: { type: ['object', 'null'], properties: { code: { type: 'string' }, title: { type: 'string' }, detail: { type: 'string' } } }, supersededBy: { type: ['string', 'null'] } } },
        Webhook: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, team: { type: ['string', 'null'], description: "null: every team's events" }, url: { type: 'string' }, events: { type: 'array', items: { enum: [...WEBHOOK_EVENT_TYPES] } }, description: { type: ['string', 'null'] }, active: { type: 'boolean' }, createdBy: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } } },
        WebhookPayload: { type: 'object', description: 'The JSON body of a delivery', properties: { id: { type: 'string', format: 'uuid', description: 'Event id, the same in every subscription' }, type: { enum: [...WEBHOOK_EVENT_TYPES, PING_EVENT] }, createdAt: { type: 'string', format: 'date-time' }, team: { type: ['string', 'null'] }, cluster: { type: ['string', 'null'] }, data: { type: 'object' } } },
        WebhookDelivery: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, webhookId: { type: 'string', format: 'uuid' }, event: { type: 'object', properties: { id: { type: 'string' }, type: { type: 'string' } } }, status: { enum: [...DELIVERY_STATUSES] }, attemptCount: { type: 'integer' }, lastStatusCode: { type: ['integer', 'null'] }, lastError: { type: ['string', 'null'] }, createdAt: { type: 'string' }, updatedAt: { type: 'string' }, nextAttemptAt: { type: ['string', 'null'] }, finishedAt: { type: ['string', 'null'] }, payload: ref('WebhookPayload'), attempts: { type: 'array', items: { type: 'object', properties: { attempt: { type: 'integer' }, at: { type: 'string' }, statusCode: { type: ['integer', 'null'] }, error: { type: ['string', 'null'] }, durationMs: { type: 'integer' } } } } } },
        DriftReport: { type: 'object', properties: { id: { type: 'string' }, clusterName: { type: 'string' }, team: { type: 'string' }, blueprint: { type: 'string' }, operationId: { type: 'string' }, sweepId: { type: ['string', 'null'] }, checkedAt: { type: 'string', format: 'date-time' }, status: { enum: ['clean', 'drifted', 'failed'] }, kinds: { type: 'array', items: { enum: ['cloud', 'spec'] } }, resources: { type: 'array', items: { type: 'object', description: 'urn, type, name, op, drift (cloud|spec), properties, diffs [{property, state, actual}] with secrets "[secret]"' } }, error: { type: ['object', 'null'] }, remediation: { type: 'object', properties: { action: { enum: ['none', 'notified', 'remediating', 'skipped'] }, reason: { type: 'string' }, operationId: { type: 'string' } } } } },
        DriftSweep: { type: 'object', properties: { id: { type: 'string' }, trigger: { enum: ['schedule', 'manual'] }, requestedBy: { type: 'string' }, status: { enum: ['running', 'succeeded', 'failed'] }, maxConcurrent: { type: 'integer' }, total: { type: 'integer' }, clean: { type: 'integer' }, drifted: { type: 'integer' }, failed: { type: 'integer' }, skipped: { type: 'array', items: { type: 'object', properties: { cluster: { type: 'string' }, reason: { type: 'string' } } } }, startedAt: { type: 'string' }, finishedAt: { type: ['string', 'null'] }, error: { type: ['string', 'null'] } } },
        Accepted: { type: 'object', properties: { cluster: ref('Cluster'), operation: ref('Operation') } },
      },
    },
  };
}
