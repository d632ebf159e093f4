/** The /v1/rollouts part of the OpenAPI description. */
import type { Blueprint } from '../src/blueprints/blueprint.js';
import { createRolloutBody, previewRolloutBody } from '../src/rollouts/requests.js';
import { created, json, parameters, policyRefusal, ref, requestSchema, route, tagged } from './openapi-parts.js';
import { ROLLOUT_ACTIONS } from './routes/rollouts.js';
import { listRolloutsQuery } from './schemas/list-queries.js';
import { rolloutIdParam } from './schemas/path-params.js';
import { rolloutEventSchema } from './schemas/rollout-event.js';
import { eventsQuery, lastEventIdHeader } from './stream-position.js';
import { rolloutPageSchema, rolloutPreviewSchema, rolloutSchema } from './schemas/rollout.js';

export const rolloutsTag = {
  name: 'Rollouts',
  description: 'Change a fleet in stages: concurrency caps, soaks, failure budgets, approvals; pause, resume, cancel, retry',
};

const link = (operationId: string) => ({ operationId, parameters: { id: '$response.body#/id' } });
const rolloutLinks = {
  GetRollout: link('getRollout'),
  PauseRollout: link('pauseRollout'),
  CancelRollout: link('cancelRollout'),
};

const ACTION_SUMMARIES: Record<(typeof ROLLOUT_ACTIONS)[number], { operationId: string; summary: string; conflict: string }> = {
  approve: {
    operationId: 'approveRollout',
    summary:
      'Let the rollout past the stage that waits for approval: an admin, or an approver token of its team; never the token that started it',
    conflict: 'The rollout is not awaiting approval',
  },
  pause: {
    operationId: 'pauseRollout',
    summary: 'Start no new member until resumed; members under way finish',
    conflict: 'The rollout is not pending or running',
  },
  resume: {
    operationId: 'resumeRollout',
    summary: 'Continue a paused or halted rollout; the failures that halted it no longer count against its budget',
    conflict: 'The rollout is not paused or halted',
  },
  cancel: {
    operationId: 'cancelRollout',
    summary: 'End the rollout: members not started never start, queued member operations are cancelled, running ones finish',
    conflict: 'The rollout is already over',
  },
  'retry-failed': {
    operationId: 'retryFailedRollout',
    summary: 'Run the failed members again with the same pinned change; a halted rollout runs again',
    conflict: 'The rollout is over or has no failed member',
  },
};

export function rolloutPaths() {
  const id = parameters(rolloutIdParam, 'path');
  return tagged('Rollouts', {
    '/v1/rollouts': {
      post: route({
        operationId: 'createRollout',
        summary:
          'Start a rollout over the live clusters the selector takes now (admin, or a team token for its own clusters); the change is checked on every member first',
        body: ref('CreateRolloutRequest'),
        idempotent: true,
        ok: { 201: created('The rollout, pending', ref('Rollout'), 'The rollout', rolloutLinks) },
        problems: {
          403: `${policyRefusal}: every member's change is held to its team's rules, and each team's node quota to the rollout's growth as a whole (onInvalid refuse)`,
          409: 'A cluster is a member of another unfinished rollout (named)',
        },
      }),
      get: route({
        operationId: 'listRollouts',
        summary: "Rollouts, newest first: a team token sees its team's, an admin token all",
        parameters: parameters(listRolloutsQuery, 'query'),
        ok: { 200: json('A page of rollouts', ref('RolloutPage')) },
      }),
    },
    '/v1/rollouts/preview': {
      post: route({
        operationId: 'previewRollout',
        summary:
          "The plan of a rollout, without starting it: stages, members, each member's steps and resulting spec, who is left out and why",
        body: ref('PreviewRolloutRequest'),
        idempotent: true,
        ok: {
          200: json('The plan', ref('RolloutPreview')),
          202: created(
            'enginePreview: the rollout in preview mode, pending: follow it for each member’s change summary',
            ref('Rollout'),
            'The rollout',
            rolloutLinks,
          ),
        },
      }),
    },
    '/v1/rollouts/{id}': {
      get: route({
        operationId: 'getRollout',
        summary: 'A rollout: its status, each stage and each member with its operations',
        parameters: id,
        ok: { 200: json('The rollout', ref('Rollout')) },
        problems: { 404: undefined },
      }),
    },
    '/v1/rollouts/{id}/events': {
      get: route({
        operationId: 'getRolloutEvents',
        summary: 'Server-Sent Events: the rollout’s status, stage and member changes; resume with Last-Event-ID',
        parameters: [...id, ...parameters(eventsQuery, 'query'), lastEventIdHeader],
        ok: {
          200: {
            description:
              'text/event-stream; events `status`, `stage`, `member`, `finished`, then `end` with the final status; a stream open when the server shuts down ends with `shutdown` instead: resume with Last-Event-ID',
            content: { 'text/event-stream': { schema: ref('RolloutEvent') } },
          },
        },
        problems: {
          404: undefined,
          429: 'This token holds its most open streams (STREAMS_MAX_PER_TOKEN), the server holds its most (STREAMS_MAX_PER_PROCESS), or too many failed authentications',
        },
      }),
    },
    ...Object.fromEntries(
      Object.entries(ACTION_SUMMARIES).map(([action, a]) => [
        `/v1/rollouts/{id}/${action}`,
        {
          post: route({
            operationId: a.operationId,
            summary: a.summary,
            parameters: id,
            idempotent: true,
            ok: { 200: json('The rollout', ref('Rollout')) },
            problems: {
              404: undefined,
              409: a.conflict,
              ...(action === 'approve'
                ? { 403: 'The token started the rollout, or it may not approve (neither an admin nor an approver of the team)' }
                : {}),
            },
          }),
        },
      ]),
    ),
  });
}

/** The request body of POST /v1/rollouts and its preview: `selector.blueprint` is one of the blueprints registered. */
export function rolloutRequestSchemas(blueprints: Blueprint<any>[]) {
  const withBlueprints = (schema: Parameters<typeof requestSchema>[0]) => {
    const body = requestSchema(schema) as { properties: { selector: { properties: { blueprint: Record<string, unknown> } } } };
    const blueprint = body.properties.selector.properties.blueprint;
    body.properties.selector.properties.blueprint = { ...blueprint, enum: blueprints.map((b) => b.name) };
    return body;
  };
  return { CreateRolloutRequest: withBlueprints(createRolloutBody), PreviewRolloutRequest: withBlueprints(previewRolloutBody) };
}
export const rolloutResponseSchemas = {
  Rollout: rolloutSchema,
  RolloutPage: rolloutPageSchema,
  RolloutPreview: rolloutPreviewSchema,
  RolloutEvent: rolloutEventSchema,
};
