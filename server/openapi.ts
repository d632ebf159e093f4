import type { Blueprint } from '../src/blueprints/blueprint.js';
import { DEFAULT_MAX_DEPTH } from '../src/lifecycle/json-guard.js';
import { createClusterBody, updateClusterBody } from '../src/lifecycle/requests.js';
import { createWebhookBody } from '../src/webhooks/requests.js';
import { WEBHOOK_EVENT_HEADER, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../src/webhooks/signature.js';
import {
  created,
  json,
  parameters,
  policyRefusal,
  ref,
  refusedToViewers,
  requestSchema,
  responseSchemas,
  route,
  tagged,
  type Answer,
} from './openapi-parts.js';
import { rolloutPaths, rolloutRequestSchemas, rolloutResponseSchemas, rolloutsTag } from './openapi-rollouts.js';
import { teamPaths, teamRequestSchemas, teamResponseSchemas, teamsTag } from './openapi-teams.js';
import { fleetPaths, fleetResponseSchemas, fleetTag } from './openapi-fleet.js';
import { tokenPaths, tokenRequestSchemas, tokenResponseSchemas, tokensTag } from './openapi-tokens.js';
import * as clusters from './schemas/cluster.js';
import * as drift from './schemas/drift.js';
import {
  driftHistoryQuery,
  fleetDriftQuery,
  kubeconfigReadsQuery,
  listClustersQuery,
  listDeliveriesQuery,
  listOperationsQuery,
  queueOperationQuery,
} from './schemas/list-queries.js';
import * as meta from './schemas/meta.js';
import { operationEventSchema } from './schemas/operation-event.js';
import * as operations from './schemas/operation.js';
import { clusterNameParam, operationIdParam, sweepIdParam, webhookIdParam } from './schemas/path-params.js';
import { problemSchema } from './schemas/problem.js';
import * as webhooks from './schemas/webhook.js';
import { eventsQuery, lastEventIdHeader } from './stream-position.js';

/** The request body of POST /v1/clusters: `spec` is described by the schema of the blueprint named. */
function createClusterRequest(blueprints: Blueprint<any>[]) {
  const base = requestSchema(createClusterBody) as { allOf?: unknown[] };
  const byBlueprint = blueprints.length
    ? {
        oneOf: blueprints.map((b) => ({
          required: ['blueprint'],
          properties: { blueprint: { const: b.name }, spec: ref(`Spec_${b.name}`) },
        })),
      }
    : { not: {}, description: 'No blueprint is registered: nothing can be created' };
  return { ...base, allOf: [...(base.allOf ?? []), byBlueprint] };
}

// Links: what an answer lets the caller do next, with the ids it carries (OpenAPI links, followed by clients and fuzzers).
const link = (operationId: string, params: Record<string, string>) => ({ operationId, parameters: params });
const clusterLinks = (at: string) => ({
  GetCluster: link('getCluster', { name: `$response.body#${at}/name` }),
  UpdateCluster: link('updateCluster', { name: `$response.body#${at}/name` }),
  DestroyCluster: link('destroyCluster', { name: `$response.body#${at}/name` }),
  ListClusterOperations: link('listClusterOperations', { name: `$response.body#${at}/name` }),
  PreviewCluster: link('previewCluster', { name: `$response.body#${at}/name` }),
  ClusterDrift: link('getClusterDrift', { name: `$response.body#${at}/name` }),
});
const operationLinks = (at: string) => ({
  GetOperation: link('getOperation', { id: `$response.body#${at}/id` }),
  CancelOperation: link('cancelOperation', { id: `$response.body#${at}/id` }),
  OperationEvents: link('getOperationEvents', { id: `$response.body#${at}/id` }),
});
const webhookLinks = {
  GetWebhook: link('getWebhook', { id: '$response.body#/id' }),
  WebhookDeliveries: link('listWebhookDeliveries', { id: '$response.body#/id' }),
  TestWebhook: link('testWebhook', { id: '$response.body#/id' }),
  DeleteWebhook: link('deleteWebhook', { id: '$response.body#/id' }),
};

/**
 * Where the API is: relative to where this description is served, so that it holds on any host. The
 * default is the root of that origin; behind a proxy that mounts the API under a path, set basePath
 * to that path (tools append each operation's path, which starts with /, to the server URL).
 */
const servers = [
  {
    url: '{basePath}',
    description: 'The origin that serves this description',
    variables: {
      basePath: {
        default: '',
        description:
          'The path the API is mounted at: empty at the root of the origin, else the prefix a proxy serves it under (e.g. /clusterd)',
      },
    },
  },
];

/** The project grants no license (package.json: private, no license field); the description says so rather than nothing. */
const license = { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' };

const tags = [
  { name: 'Clusters', description: 'Create, list, read, change and destroy clusters; preview and refresh them; read their kubeconfig' },
  { name: 'Operations', description: "Every change is an operation: read it, follow its events, cancel it; a cluster's history" },
  { name: 'Drift', description: 'Drift checks and remediation of one cluster, its reports, the fleet summary and fleet sweeps' },
  rolloutsTag,
  teamsTag,
  fleetTag,
  { name: 'Blueprints', description: 'The kinds of cluster this service creates, with the JSON Schema of their spec' },
  tokensTag,
  { name: 'Webhooks', description: 'Subscriptions to events, their deliveries, test pings' },
  { name: 'Health', description: 'Liveness and readiness, without a token' },
];

const accepted: Answer = {
  ...created('Accepted: the operation is queued', ref('Accepted'), 'The operation'),
  links: { ...clusterLinks('/cluster'), ...operationLinks('/operation') },
};

/** The OpenAPI 3.1 description, generated from the schemas that validate requests and shape answers. */
export function buildOpenApi(blueprints: Blueprint<any>[], maxBodyDepth = DEFAULT_MAX_DEPTH) {
  const name = parameters(clusterNameParam, 'path');
  const id = parameters(operationIdParam, 'path');
  const webhookId = parameters(webhookIdParam, 'path');
  const stateConflict = 'Cluster destroyed or a destroy is pending';
  const queueing = [...name, ...parameters(queueOperationQuery, 'query')];
  const inspect = (operationId: string, summary: string) => ({
    post: route({
      operationId,
      summary,
      parameters: queueing,
      idempotent: true,
      ok: { 202: accepted },
      problems: { 404: undefined, 409: stateConflict },
    }),
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'clusterd',
      version: '1',
      description: `Self-service Kubernetes cluster lifecycle over the Pulumi Automation API. Every change is an operation to poll, stream and cancel. Every JSON body is refused (400) when it nests arrays and objects deeper than ${maxBodyDepth} levels, holds a __proto__, constructor or prototype key anywhere, a NUL character (U+0000) or a lone surrogate in any string or key, or a number too large to be finite; query values may not hold NUL either. A method a path does not list answers 405 with Allow. Authenticated answers carry Cache-Control: private, no-cache, except those of routes that hand out a secret (no-store).`,
      license,
    },
    servers,
    tags,
    security: [{ bearer: [] }],
    paths: refusedToViewers({
      ...tagged('Clusters', {
        '/v1/clusters': {
          post: route({
            operationId: 'createCluster',
            summary: 'Create a cluster (queues a provision)',
            body: ref('CreateClusterRequest'),
            idempotent: true,
            ok: { 202: accepted },
            problems: { 403: policyRefusal, 409: 'A cluster with that name exists' },
          }),
          get: route({
            operationId: 'listClusters',
            summary: 'List clusters',
            parameters: parameters(listClustersQuery, 'query'),
            ok: { 200: json('A page of clusters', ref('ClusterPage')) },
          }),
        },
        '/v1/clusters/{name}': {
          get: route({
            operationId: 'getCluster',
            summary: 'Read a cluster',
            parameters: name,
            ok: { 200: json('The cluster', ref('Cluster')) },
            problems: { 404: undefined },
          }),
          patch: route({
            operationId: 'updateCluster',
            summary:
              'Change the desired spec (JSON merge patch; queues an update) and/or the drift policy, expiry and maintenance policy (200, no operation)',
            parameters: name,
            body: ref('UpdateClusterRequest'),
            idempotent: true,
            ok: { 200: json('Only settings changed: done, no operation', ref('SettingsChanged')), 202: accepted },
            problems: { 403: policyRefusal, 404: undefined, 409: stateConflict },
          }),
          delete: route({
            operationId: 'destroyCluster',
            summary: 'Destroy a cluster; the stack is removed when the destroy succeeds',
            parameters: queueing,
            idempotent: true,
            ok: { 202: accepted },
            problems: { 404: undefined, 409: 'Already destroyed or a destroy is pending' },
          }),
        },
        '/v1/clusters/{name}/preview': inspect('previewCluster', 'Preview the planned changes without applying them'),
        '/v1/clusters/{name}/refresh': inspect('refreshCluster', 'Refresh the state from the live resources'),
        '/v1/clusters/{name}/kubeconfig': {
          get: route({
            operationId: 'getKubeconfig',
            summary:
              "The cluster's kubeconfig (a secret stack output, decrypted); the read is recorded. Reads of the state are bounded per API process and shared for a few seconds (KUBECONFIG_*)",
            parameters: name,
            secret: true,
            ok: { 200: json('The kubeconfig', ref('Kubeconfig')) },
            problems: {
              403: 'The token is a viewer’s: it never reads a kubeconfig',
              404: 'No such cluster visible to this token, or it has no kubeconfig (yet)',
              503: 'Every state reader stayed busy, the read took longer than KUBECONFIG_READ_TIMEOUT_MS, or the record store does not answer',
            },
          }),
        },
        '/v1/clusters/{name}/kubeconfig/reads': {
          get: route({
            operationId: 'listKubeconfigReads',
            summary: 'Who read the kubeconfig, and when, newest first',
            parameters: [...name, ...parameters(kubeconfigReadsQuery, 'query')],
            ok: { 200: json('Reads', ref('KubeconfigReads')) },
            problems: { 404: undefined },
          }),
        },
      }),
      ...tagged('Operations', {
        '/v1/clusters/{name}/operations': {
          get: route({
            operationId: 'listClusterOperations',
            summary: "A cluster's operation history, newest first",
            parameters: [...name, ...parameters(listOperationsQuery, 'query')],
            ok: { 200: json('A page of operations', ref('OperationPage')) },
            problems: { 404: undefined },
          }),
        },
        '/v1/operations/{id}': {
          get: route({
            operationId: 'getOperation',
            summary: 'Read an operation',
            parameters: id,
            ok: { 200: json('The operation', ref('Operation')) },
            problems: { 404: undefined },
          }),
        },
        '/v1/operations/{id}/events': {
          get: route({
            operationId: 'getOperationEvents',
            summary: 'Server-Sent Events: engine events and log lines; resume with Last-Event-ID',
            parameters: [...id, ...parameters(eventsQuery, 'query'), lastEventIdHeader],
            ok: {
              200: {
                description:
                  'text/event-stream; events `engine`, `log`, `status`, then `end` (an operation finished longer ago than RETENTION_OPERATION_EVENTS, 30 days by default, has only `end`); a stream open when the server shuts down ends with a `shutdown` event instead: resume with Last-Event-ID',
                content: { 'text/event-stream': { schema: ref('OperationEvent') } },
              },
            },
            problems: {
              404: undefined,
              429: 'This token holds its most open streams (STREAMS_MAX_PER_TOKEN), the server holds its most (STREAMS_MAX_PER_PROCESS), or too many failed authentications',
            },
          }),
        },
        '/v1/operations/{id}/cancel': {
          post: route({
            operationId: 'cancelOperation',
            summary: 'Cancel: a queued operation never runs; a running one is cancelled through the engine',
            parameters: id,
            idempotent: true,
            ok: { 202: json('The operation', ref('Operation')) },
            problems: { 404: undefined, 409: 'Already finished' },
          }),
        },
        '/v1/operations/{id}/approve': {
          post: route({
            operationId: 'approveOperation',
            summary:
              'Approve an operation awaiting approval: an admin, or an approver token of its team; never the token that requested it. Once enough approvals came it runs, bound to the plan approved (a plan that changed since fails it with plan-changed)',
            parameters: id,
            body: ref('ApproveRequest'),
            bodyOptional: true,
            ok: { 200: json('The operation with the approval recorded', ref('Operation')) },
            problems: {
              403: 'A member or viewer token, an approver of another team, or the token that requested the operation',
              404: undefined,
              409: 'Not awaiting approval, this token answered already, or the wait has expired (the operation then ends failed, approval-expired)',
            },
          }),
        },
        '/v1/operations/{id}/reject': {
          post: route({
            operationId: 'rejectOperation',
            summary: 'Reject an operation awaiting approval, saying why: it ends failed (approval-rejected) and changes nothing',
            parameters: id,
            body: ref('RejectRequest'),
            ok: { 200: json('The operation, failed', ref('Operation')) },
            problems: {
              403: 'A member or viewer token, an approver of another team, or the token that requested the operation',
              404: undefined,
              409: 'Not awaiting approval, this token answered already, or the wait has expired',
            },
          }),
        },
      }),
      ...tagged('Drift', {
        '/v1/clusters/{name}/drift-check': inspect(
          'checkClusterDrift',
          'Compare the live resources with the state, and the state with the desired spec; writes nothing, takes no lock',
        ),
        '/v1/clusters/{name}/remediate': inspect(
          'remediateCluster',
          'Bring a drifted cluster back to its desired spec (an update with refresh)',
        ),
        '/v1/clusters/{name}/drift': {
          get: route({
            operationId: 'getClusterDrift',
            summary: "A cluster's latest drift report and its history, newest first",
            parameters: [...name, ...parameters(driftHistoryQuery, 'query')],
            ok: { 200: json('Latest report and a page of reports', ref('ClusterDrift')) },
            problems: { 404: undefined },
          }),
        },
        '/v1/drift': {
          get: route({
            operationId: 'getFleetDrift',
            summary: "Fleet drift summary from each live cluster's latest check (a team token sees its team)",
            parameters: parameters(fleetDriftQuery, 'query'),
            ok: { 200: json('Counts, also by team and by blueprint', ref('FleetDrift')) },
          }),
        },
        '/v1/drift/sweeps': {
          post: route({
            operationId: 'startDriftSweep',
            summary: 'Run a fleet drift sweep now (admin)',
            idempotent: true,
            ok: {
              202: created('The sweep, running', ref('DriftSweep'), 'The sweep', {
                GetSweep: link('getDriftSweep', { id: '$response.body#/id' }),
              }),
            },
            problems: {
              403: undefined,
              409: 'A sweep is still running',
              429: 'Too many manual sweeps with this token (RATE_LIMIT_DRIFT_SWEEPS), or too many failed authentications',
            },
          }),
        },
        '/v1/drift/sweeps/{id}': {
          get: route({
            operationId: 'getDriftSweep',
            summary: "A sweep's progress and results (admin; 404 for others)",
            parameters: parameters(sweepIdParam, 'path'),
            ok: { 200: json('The sweep', ref('DriftSweep')) },
            problems: { 404: undefined },
          }),
        },
      }),
      ...rolloutPaths(),
      ...teamPaths(),
      ...fleetPaths(),
      ...tagged('Blueprints', {
        '/v1/blueprints': {
          get: route({
            operationId: 'listBlueprints',
            summary: 'Blueprints and their spec schemas',
            ok: { 200: json('Blueprints', ref('BlueprintList')) },
          }),
        },
      }),
      ...tokenPaths(),
      ...tagged('Webhooks', {
        '/v1/webhooks': {
          post: route({
            operationId: 'createWebhook',
            summary: `Subscribe a URL to events; the answer carries the signing secret, shown once. Deliveries are POSTed with ${WEBHOOK_ID_HEADER}, ${WEBHOOK_TIMESTAMP_HEADER}, ${WEBHOOK_SIGNATURE_HEADER} (v1=HMAC-SHA256 of "<timestamp>.<body>") and ${WEBHOOK_EVENT_HEADER}`,
            body: ref('CreateWebhookRequest'),
            secret: true,
            ok: { 201: created('The subscription and its signingSecret', ref('CreatedWebhook'), 'The subscription', webhookLinks) },
          }),
          get: route({
            operationId: 'listWebhooks',
            summary: "Subscriptions: a team token sees its team's, an admin token all",
            ok: { 200: json('Subscriptions', ref('WebhookList')) },
          }),
        },
        '/v1/webhooks/{id}': {
          get: route({
            operationId: 'getWebhook',
            summary: 'Read a subscription (never its secret)',
            parameters: webhookId,
            ok: { 200: json('The subscription', ref('Webhook')) },
            problems: { 404: undefined },
          }),
          delete: route({
            operationId: 'deleteWebhook',
            summary: 'Delete a subscription and its delivery log; pending deliveries are dropped',
            parameters: webhookId,
            ok: { 204: { description: 'Deleted' } },
            problems: { 404: undefined },
          }),
        },
        '/v1/webhooks/{id}/deliveries': {
          get: route({
            operationId: 'listWebhookDeliveries',
            summary: 'Deliveries, newest first, each with every attempt',
            parameters: [...webhookId, ...parameters(listDeliveriesQuery, 'query')],
            ok: { 200: json('A page of deliveries', ref('DeliveryPage')) },
            problems: { 404: undefined },
          }),
        },
        '/v1/webhooks/{id}/test': {
          post: route({
            operationId: 'testWebhook',
            summary: 'Send a ping event to this subscription',
            parameters: webhookId,
            ok: { 202: json('The queued delivery', ref('WebhookDelivery')) },
            problems: {
              404: undefined,
              429: 'Too many test pings with this token (RATE_LIMIT_WEBHOOK_TESTS), or too many failed authentications',
            },
          }),
        },
      }),
      ...tagged('Health', {
        '/healthz': {
          get: { operationId: 'getHealth', summary: 'Alive', security: [], responses: { 200: json('The process answers', ref('Health')) } },
        },
        '/readyz': {
          get: {
            operationId: 'getReadiness',
            summary: 'Ready: record store, Redis and the Pulumi CLI usable',
            security: [],
            responses: {
              200: json('Ready', ref('Readiness')),
              503: json(
                'A dependency is not usable (named in checks, with the reason), or the process is shutting down (`draining`, without checks)',
                ref('Readiness'),
              ),
            },
          },
        },
        '/metrics': {
          get: {
            operationId: 'getMetrics',
            summary: 'Prometheus metrics of this process (served here unless METRICS_PORT moves them to their own listener)',
            security: [],
            responses: {
              200: {
                description: 'The Prometheus text exposition format; see docs/observability.md',
                content: { 'text/plain': { schema: { type: 'string' } } },
              },
              404: {
                description: 'Served on the METRICS_PORT listener instead',
                content: { 'text/plain': { schema: { type: 'string' } } },
              },
            },
          },
        },
      }),
    }),
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        CreateClusterRequest: createClusterRequest(blueprints),
        UpdateClusterRequest: requestSchema(updateClusterBody),
        CreateWebhookRequest: requestSchema(createWebhookBody),
        ApproveRequest: requestSchema(operations.approveRequestSchema),
        RejectRequest: requestSchema(operations.rejectRequestSchema),
        ...rolloutRequestSchemas(blueprints),
        ...teamRequestSchemas(),
        ...tokenRequestSchemas(),
        ...Object.fromEntries(blueprints.map((b) => [`Spec_${b.name}`, requestSchema(b.specSchema)])),
        ...responseSchemas({
          Problem: problemSchema,
          Cluster: clusters.clusterSchema,
          ClusterPage: clusters.clusterPageSchema,
          Operation: operations.operationSchema,
          OperationPage: operations.operationPageSchema,
          Accepted: clusters.acceptedSchema,
          SettingsChanged: clusters.settingsChangedSchema,
          Kubeconfig: clusters.kubeconfigSchema,
          KubeconfigReads: clusters.kubeconfigReadsSchema,
          DriftReport: drift.driftReportSchema,
          ClusterDrift: drift.clusterDriftSchema,
          FleetDrift: drift.fleetDriftSchema,
          DriftSweep: drift.driftSweepSchema,
          Webhook: webhooks.webhookSchema,
          CreatedWebhook: webhooks.createdWebhookSchema,
          WebhookList: webhooks.webhookListSchema,
          WebhookPayload: webhooks.webhookPayloadSchema,
          WebhookDelivery: webhooks.deliverySchema,
          DeliveryPage: webhooks.deliveryPageSchema,
          BlueprintList: meta.blueprintListSchema,
          Health: meta.healthSchema,
          Readiness: meta.readinessSchema,
          OperationEvent: operationEventSchema,
          ...rolloutResponseSchemas,
          ...teamResponseSchemas,
          ...fleetResponseSchemas,
          ...tokenResponseSchemas,
        }),
      },
    },
  };
}
