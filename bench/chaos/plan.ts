/**
 * The seeded plan of a chaos run: which request goes when, and when which part of the service dies.
 * Pure, so that a seed always gives the same plan (the machine decides the rest).
 */
import type { Random } from './random.js';

export const STEP_KINDS = ['provision', 'update', 'preview', 'drift-check', 'refresh', 'cancel', 'hostile', 'destroy'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/**
 * How a step uses Idempotency-Key. `key`: one key, retried on 5xx, network errors and 409 in-flight
 * until answered; `twice-sequential`: then sent again with the same key; `twice-concurrent`: sent
 * twice at once with the same key. `none`: no key, so a client cannot safely retry it.
 */
export type Idempotency = 'none' | 'key' | 'twice-sequential' | 'twice-concurrent';

/** One HTTP request of the plan. */
export interface Step {
  index: number;
  /** When to send it, from the start of the load. Milliseconds. */
  atMs: number;
  cluster: string;
  kind: StepKind;
  idempotency: Idempotency;
  method: 'POST' | 'PATCH' | 'DELETE';
  /** Path, or `cancel`: the cluster's latest accepted operation is chosen when the step runs. */
  path: string;
  body?: unknown;
}

/** One attack on the service. */
export type Attack =
  /** `pick` in [0, 1) chooses the victim among the workers ready at that moment. */
  | { atMs: number; type: 'kill-worker'; pick: number; restartAfterMs: number }
  | { atMs: number; type: 'restart-redis'; downMs: number }
  | { atMs: number; type: 'restart-postgres' };

export interface PlanSettings {
  operations: number;
  clusters: number;
  /** Milliseconds. */
  durationMs: number;
  /** Milliseconds. */
  killMinMs: number;
  /** Milliseconds. */
  killMaxMs: number;
}

export const TEAM = 'chaos';
export const clusterName = (i: number) => `chaos-${String(i).padStart(3, '0')}`;

/** Shares of the requests between provisions and destroys. */
const MIXED_WEIGHTS = { update: 40, preview: 18, 'drift-check': 14, refresh: 6, cancel: 14, hostile: 8 } as const;

function idempotencyFor(kind: StepKind, random: Random): Idempotency {
  // Provisions and destroys must get through an outage, so they always carry a key.
  if (kind === 'hostile' || (kind !== 'provision' && kind !== 'destroy' && !random.chance(0.5))) return 'none';
  return random.weighted({ key: 60, 'twice-sequential': 25, 'twice-concurrent': 15 });
}

/** Desired spec of a provision: some are slow, so that kills find them mid-flight. */
function provisionSpec(random: Random) {
  return {
    version: '1.30',
    nodePools: [{ name: 'default', size: random.int(1, 4) }],
    ...(random.chance(0.3) ? { delayMs: random.int(1000, 3000) } : {}),
  };
}

/** A merge patch that always changes something; half of them are slow (each resource update sleeps delayMs). */
function updatePatch(index: number, random: Random) {
  return {
    spec: {
      nodePools: [{ name: 'default', size: random.int(1, 5) }],
      tags: { rev: String(index) },
      delayMs: random.chance(0.5) ? random.int(2000, 6000) : 0,
    },
  };
}

/** Requests that must be refused with a 4xx and change nothing. */
function hostile(cluster: string, random: Random): Pick<Step, 'method' | 'path' | 'body'> {
  switch (random.int(0, 4)) {
    case 0:
      return { method: 'PATCH', path: `/v1/clusters/${cluster}`, body: { spec: { nodePools: [{ name: 'default', size: 1000 }] } } };
    case 1:
      return { method: 'PATCH', path: `/v1/clusters/${cluster}`, body: { spec: { version: 'latest', delayMs: -1 } } };
    case 2:
      // The name is taken by a live cluster.
      return {
        method: 'POST',
        path: '/v1/clusters',
        body: { name: cluster, team: TEAM, blueprint: 'local-files', spec: { version: '1.30', nodePools: [{ name: 'default', size: 1 }] } },
      };
    case 3:
      return {
        method: 'PATCH',
        path: `/v1/clusters/${cluster}`,
        body: { spec: { nodePools: [{ name: 'Bad Name', size: 1 }] }, unknownField: true },
      };
    default:
      // A name that tries to climb out of its path segment.
      return { method: 'POST', path: `/v1/clusters/${encodeURIComponent(`../${cluster}`)}/preview` };
  }
}

function request(kind: StepKind, cluster: string, index: number, random: Random): Pick<Step, 'method' | 'path' | 'body'> {
  switch (kind) {
    case 'provision':
      return {
        method: 'POST',
        path: '/v1/clusters',
        body: { name: cluster, team: TEAM, blueprint: 'local-files', spec: provisionSpec(random) },
      };
    case 'update':
      return { method: 'PATCH', path: `/v1/clusters/${cluster}`, body: updatePatch(index, random) };
    case 'preview':
    case 'drift-check':
    case 'refresh':
      return { method: 'POST', path: `/v1/clusters/${cluster}/${kind}` };
    case 'cancel':
      return { method: 'POST', path: 'cancel' };
    case 'hostile':
      return hostile(cluster, random);
    case 'destroy':
      return { method: 'DELETE', path: `/v1/clusters/${cluster}` };
  }
}

/**
 * Every cluster is provisioned in the first 8 % of the load and destroyed between 85 % and 95 %;
 * the other requests fall on random clusters at random times in between.
 */
export function planSteps(settings: PlanSettings, random: Random): Step[] {
  const { clusters, durationMs } = settings;
  const drafts: Array<Omit<Step, 'index' | 'idempotency' | 'method' | 'path' | 'body'>> = [];
  const at = (from: number, to: number) => Math.round(durationMs * (from + random.next() * (to - from)));
  for (let c = 0; c < clusters; c++) drafts.push({ atMs: at(0, 0.08), cluster: clusterName(c), kind: 'provision' });
  for (let i = 0; i < settings.operations - 2 * clusters; i++) {
    drafts.push({ atMs: at(0.08, 0.85), cluster: clusterName(random.int(0, clusters - 1)), kind: random.weighted(MIXED_WEIGHTS) });
  }
  for (let c = 0; c < clusters; c++) drafts.push({ atMs: at(0.85, 0.95), cluster: clusterName(c), kind: 'destroy' });
  return drafts
    .sort((a, b) => a.atMs - b.atMs)
    .map((d, index) => ({ ...d, index, idempotency: idempotencyFor(d.kind, random), ...request(d.kind, d.cluster, index, random) }));
}

/**
 * Worker kills from 5 % of the load to its end, at random intervals, each of a random worker (among
 * those ready then) that is started again a little later; Redis dies once between 25 % and 40 % and PostgreSQL restarts once
 * between 55 % and 70 %, so that each outage meets a busy service.
 */
export function planAttacks(settings: PlanSettings, random: Random): Attack[] {
  const { durationMs } = settings;
  const attacks: Attack[] = [];
  for (let t = durationMs * 0.05; t < durationMs; t += random.int(settings.killMinMs, settings.killMaxMs)) {
    attacks.push({ atMs: Math.round(t), type: 'kill-worker', pick: random.next(), restartAfterMs: random.int(500, 3000) });
  }
  attacks.push({ atMs: Math.round(durationMs * (0.25 + random.next() * 0.15)), type: 'restart-redis', downMs: random.int(2000, 5000) });
  attacks.push({ atMs: Math.round(durationMs * (0.55 + random.next() * 0.15)), type: 'restart-postgres' });
  return attacks.sort((a, b) => a.atMs - b.atMs);
}
