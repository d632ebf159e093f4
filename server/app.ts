import { requestLogging, watchRoutes } from './request-log.js';
import { traceRequests } from './request-tracing.js';
import { countRequests, metricsRouter, type MetricsEndpoint } from './metrics.js';
import express, { Router } from 'express';
import type { z } from 'zod';
import type { Logger } from 'pino';
import type { DriftService } from '../src/drift/drift-service.js';
import type { ClusterService } from '../src/lifecycle/cluster-service.js';
import { DEFAULT_MAX_DEPTH } from '../src/lifecycle/json-guard.js';
import type { OperationService } from '../src/lifecycle/operation-service.js';
import type { BlueprintLookup } from '../src/ports.js';
import type { IdempotencyStore } from '../src/store/idempotency-store.js';
import type { TokenStore } from '../src/store/token-store.js';
import type { TokenService } from '../src/tokens/token-service.js';
import type { WebhookService } from '../src/webhooks/webhook-service.js';
import { authenticate, readOnlyForViewers } from './auth.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { idempotency } from './idempotency.js';
import { inputGuard } from './input-guard.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { buildOpenApi } from './openapi.js';
import { clustersRouter } from './routes/clusters.js';
import { driftRouter } from './routes/drift.js';
import { healthRouter, type Check } from './routes/meta.js';
import { operationsRouter } from './routes/operations.js';
import { rolloutsRouter } from './routes/rollouts.js';
import type { RolloutService } from '../src/rollouts/rollout-service.js';
import { teamsRouter } from './routes/teams.js';
import { fleetRouter } from './routes/fleet.js';
import type { FleetVersions, FleetVersionsQuery } from '../src/versions/fleet-versions.js';
import type { Principal } from '../src/auth/principal.js';
import type { TeamPolicyService } from '../src/guardrails/team-policy-service.js';
import { tokensRouter } from './routes/tokens.js';
import type { MaintenanceService } from '../src/maintenance/maintenance-service.js';
import { webhooksRouter } from './routes/webhooks.js';
import type { ApiRateLimits } from './rate-limit.js';
import type { blueprintListSchema } from './schemas/meta.js';
import { noStore, privateNoCache, securityHeaders } from './security-headers.js';
import type { EventStreamDeps, EventStreamOptions } from './sse.js';
import type { RolloutStreamOptions } from './rollout-stream.js';

export interface AppDeps {
  /** Tokens (authentication) and the answers kept for Idempotency-Keys. */
  store: Pick<TokenStore, 'findTokenByHash'> & IdempotencyStore;
  /** /v1/tokens: issue, list, read, revoke. */
  tokens: TokenService;
  clusters: ClusterService;
  operations: OperationService;
  drift: DriftService;
  webhooks: WebhookService;
  rollouts: RolloutService;
  maintenance: MaintenanceService;
  teamPolicies: TeamPolicyService;
  blueprints: BlueprintLookup;
  /** The fleet by Kubernetes version and support status (GET /v1/fleet/versions). */
  fleetVersions(principal: Principal, query: FleetVersionsQuery): Promise<FleetVersions>;
  /** The database's clock, ms: what support statuses are worked out by. */
  now: () => Promise<number>;
  /** Dependencies `/readyz` checks, by name. */
  readiness: Record<string, Check>;
  /** True once the process is shutting down: `/readyz` then answers 503 `draining`. @defaultValue never */
  draining?: () => boolean;
  /** Counts every request; also served at `/metrics` unless `metricsElsewhere` (a METRICS_PORT listener serves them). */
  metrics?: MetricsEndpoint;
  /** @defaultValue false */
  metricsElsewhere?: boolean;
  log: Logger;
  /** Largest JSON body, in bytes (413 above). @see Config.MAX_BODY_BYTES */
  maxBodyBytes: number;
  /** How long an Idempotency-Key holds its answer, in ms; after it the key is free again (null: forever). */
  idempotencyKeyTtlMs: number | null;
  /** Event streams: the process's operation feeds and its caps on open streams. */
  streams: Omit<EventStreamDeps, 'operations'>;
  /** Deepest nesting of arrays and objects in a JSON body (400 above). @defaultValue 32 @see Config.MAX_BODY_DEPTH */
  maxBodyDepth?: number;
  stream?: Partial<EventStreamOptions & RolloutStreamOptions>;
  /** Rate limits; an absent one does not limit. @defaultValue none */
  limits?: ApiRateLimits;
  /** Express `trust proxy`: which proxies' X-Forwarded-For names the client (per-address limits count it). @defaultValue false */
  trustProxy?: boolean | number | string[];
}

/** The HTTP API, not listening: the caller decides where it runs. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // node:querystring: every value is a string or, for a repeated key, an array of strings. No route
  // takes nested query objects, and qs (`extended`) would turn a key repeated more than 20 times
  // into an object and build nested shapes from brackets that no schema here expects.
  app.set('query parser', 'simple');
  app.set('trust proxy', deps.trustProxy ?? false);
  const openapi = buildOpenApi(deps.blueprints.list(), deps.maxBodyDepth ?? DEFAULT_MAX_DEPTH);

  app.use(watchRoutes);
  // Before the rest, so that everything the request does happens in its span.
  app.use(traceRequests());
  app.use(requestLogging(deps.log));
  if (deps.metrics) app.use(countRequests(deps.metrics));
  app.use(securityHeaders());
  // Caching is said before anything can refuse the request, so that every answer carries it: a 401
  // or 405 included. Routes that hand out a secret (a token, a signing secret, a kubeconfig) say no-store.
  app.use('/v1', privateNoCache);
  app.post('/v1/tokens', noStore);
  app.post('/v1/webhooks', noStore);
  app.get('/v1/clusters/:name/kubeconfig', noStore);
  app.use(methodNotAllowed(openapi.paths));

  app.use(healthRouter(deps.readiness, deps.draining));
  if (deps.metrics && !deps.metricsElsewhere) app.use(metricsRouter(deps.metrics));
  app.get('/openapi.json', (_req, res) => void res.json(openapi));

  const v1 = Router();
  v1.use(express.json({ limit: deps.maxBodyBytes, strict: false }));
  v1.use(authenticate(deps.store, deps.limits?.authFailures));
  v1.use(readOnlyForViewers);
  v1.use(inputGuard({ maxBodyDepth: deps.maxBodyDepth ?? DEFAULT_MAX_DEPTH }));
  // Tokens and webhooks are created before idempotency: a stored replay would keep the token's
  // value or the signing secret.
  v1.use('/tokens', tokensRouter(deps.tokens));
  v1.use('/webhooks', webhooksRouter(deps));
  v1.use(idempotency(deps.store, { staleMs: 60_000, ttlMs: deps.idempotencyKeyTtlMs }));
  v1.get('/blueprints', (_req, res) => {
    const items = deps.blueprints.list().map((b) => ({
      name: b.name,
      description: b.description,
      specSchema: (openapi.components.schemas as Record<string, Record<string, unknown>>)[`Spec_${b.name}`]!,
    }));
    res.json({ items } satisfies z.output<typeof blueprintListSchema>);
  });
  v1.use(driftRouter(deps));
  v1.use('/clusters', clustersRouter(deps));
  v1.use(
    '/rollouts',
    rolloutsRouter({
      rollouts: deps.rollouts,
      streams: deps.streams,
      stream: { keepAliveMs: 15_000, pollMs: 1_000, ...deps.stream },
    }),
  );
  v1.use('/teams', teamsRouter(deps));
  v1.use('/fleet', fleetRouter(deps));
  v1.use(
    '/operations',
    operationsRouter({ operations: deps.operations, streams: deps.streams, stream: { keepAliveMs: 15_000, ...deps.stream } }),
  );
  app.use('/v1', v1);

  app.use(notFoundHandler);
  app.use(errorHandler(deps.log));
  return app;
}
