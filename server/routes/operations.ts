import { Router } from 'express';
import type { OperationService } from '../../src/lifecycle/operation-service.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { principalOf } from '../auth.js';
import { approveRequestSchema, rejectRequestSchema } from '../schemas/operation.js';
import { operationIdParam } from '../schemas/path-params.js';
import { streamOperationEvents, type EventStreamDeps, type EventStreamOptions } from '../sse.js';
import { operationView } from '../views.js';

/** /v1/operations: read, stream, cancel, and answer those awaiting approval. */
export function operationsRouter(deps: {
  operations: OperationService;
  streams: Omit<EventStreamDeps, 'operations'>;
  stream: EventStreamOptions;
}): Router {
  const { operations } = deps;
  const router = Router();
  const idOf = (params: unknown) => parseOrThrow(operationIdParam, params, '', 'path').id;

  router.get('/:id', async (req, res) => {
    res.json(operationView(await operations.get(principalOf(req), idOf(req.params))));
  });

  router.get('/:id/events', async (req, res) => {
    await streamOperationEvents({ operations, ...deps.streams }, principalOf(req), idOf(req.params), req, res, deps.stream);
  });

  router.post('/:id/cancel', async (req, res) => {
    const op = await operations.cancel(principalOf(req), idOf(req.params));
    res.status(202).json(operationView(op));
  });

  router.post('/:id/approve', async (req, res) => {
    const body = parseOrThrow(approveRequestSchema, req.body ?? {}, '', 'body');
    res.json(operationView(await operations.approve(principalOf(req), idOf(req.params), body.comment ?? null)));
  });

  router.post('/:id/reject', async (req, res) => {
    const body = parseOrThrow(rejectRequestSchema, req.body ?? {}, '', 'body');
    res.json(operationView(await operations.reject(principalOf(req), idOf(req.params), body.comment)));
  });

  return router;
}
