import { Router } from 'express';
import type { Principal } from '../../src/auth/principal.js';
import type { RolloutRecord } from '../../src/domain/rollout.js';
import { writeOnlyFields } from '../../src/blueprints/write-only.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { createRolloutBody, previewRolloutBody } from '../../src/rollouts/requests.js';
import type { RolloutService } from '../../src/rollouts/rollout-service.js';
import { principalOf } from '../auth.js';
import { rolloutPageView, rolloutPreviewView, rolloutView } from '../rollout-views.js';
import { listRolloutsQuery } from '../schemas/list-queries.js';
import { rolloutIdParam } from '../schemas/path-params.js';
import { streamRolloutEvents, type RolloutStreamOptions } from '../rollout-stream.js';
import type { EventStreamDeps } from '../sse.js';

/** What a person may ask of a rollout under way. */
export const ROLLOUT_ACTIONS = ['approve', 'pause', 'resume', 'cancel', 'retry-failed'] as const;

/** /v1/rollouts: plan, start, watch and steer fleet rollouts. */
export function rolloutsRouter(deps: {
  rollouts: RolloutService;
  streams: Pick<EventStreamDeps, 'slots' | 'shutdown'>;
  stream: RolloutStreamOptions;
}): Router {
  const { rollouts } = deps;
  const router = Router();
  const idOf = (params: unknown) => parseOrThrow(rolloutIdParam, params, '', 'path').id;

  router.post('/preview', async (req, res) => {
    const { enginePreview, ...body } = parseOrThrow(previewRolloutBody, req.body);
    if (enginePreview) {
      const rollout = await rollouts.enginePreview(principalOf(req), body);
      res.status(202).location(`/v1/rollouts/${rollout.id}`).json(rolloutView(rollout));
      return;
    }
    const { plan, blueprint } = await rollouts.preview(principalOf(req), body);
    res.json(rolloutPreviewView(plan, writeOnlyFields(blueprint)));
  });

  router.post('/', async (req, res) => {
    const rollout = await rollouts.create(principalOf(req), parseOrThrow(createRolloutBody, req.body));
    res.status(201).location(`/v1/rollouts/${rollout.id}`).json(rolloutView(rollout));
  });

  router.get('/', async (req, res) => {
    const q = parseOrThrow(listRolloutsQuery, req.query, 'query', 'query');
    res.json(rolloutPageView(await rollouts.list(principalOf(req), q.limit, q.cursor)));
  });

  router.get('/:id', async (req, res) => {
    res.json(rolloutView(await rollouts.get(principalOf(req), idOf(req.params))));
  });

  router.get('/:id/events', async (req, res) => {
    await streamRolloutEvents({ rollouts, ...deps.streams }, principalOf(req), idOf(req.params), req, res, deps.stream);
  });

  const actions: Record<(typeof ROLLOUT_ACTIONS)[number], (principal: Principal, id: string) => Promise<RolloutRecord>> = {
    approve: (p, id) => rollouts.approve(p, id),
    pause: (p, id) => rollouts.pause(p, id),
    resume: (p, id) => rollouts.resume(p, id),
    cancel: (p, id) => rollouts.cancel(p, id),
    'retry-failed': (p, id) => rollouts.retryFailed(p, id),
  };
  for (const action of ROLLOUT_ACTIONS) {
    router.post(`/:id/${action}`, async (req, res) => {
      res.json(rolloutView(await actions[action](principalOf(req), idOf(req.params))));
    });
  }

  return router;
}
