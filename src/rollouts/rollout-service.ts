import { assertMayApprove } from '../auth/permissions.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import type { Blueprint } from '../blueprints/blueprint.js';
import { writeOnlyFields } from '../blueprints/write-only.js';
import type { ClusterRecord } from '../domain/cluster.js';
import type { Page } from '../domain/page.js';
import type { RolloutEvent } from '../domain/rollout-events.js';
import {
  FINAL_ROLLOUT_STATUSES,
  IN_FLIGHT_STATES,
  type RolloutChange,
  type RolloutMode,
  type RolloutRecord,
  type RolloutStatus,
} from '../domain/rollout.js';
import { ConflictError, InputError, NotFoundError, PolicyError, type FieldIssue } from '../errors.js';
import type { BlueprintLookup } from '../ports.js';
import type { SpecSealer } from '../secrets/spec-sealer.js';
import { allClusters, type ClusterStore } from '../store/cluster-store.js';
import type { RolloutPatch, RolloutStore } from '../store/rollout-store.js';
import { knownBlueprint } from '../lifecycle/known-blueprint.js';
import { describeIssues } from '../lifecycle/zod-issues.js';
import { changeOf, type CreateRolloutBody } from './requests.js';
import { resolveTarget } from './upgrade-target.js';
import type { TeamPolicy } from '../domain/team-policy.js';
import { byPolicy, changeIssues, nodeCapacity, outgrownQuotas } from '../guardrails/policy-rules.js';
import type { TeamPolicyStore } from '../store/team-policy-store.js';
import { completeStage } from './rollout-progress.js';
import { planRollout, type RolloutPlan } from './rollout-plan.js';

export interface RolloutServiceDeps {
  rollouts: RolloutStore;
  clusters: Pick<ClusterStore, 'listClusters'>;
  blueprints: BlueprintLookup;
  sealer: Pick<SpecSealer, 'open'>;
  /** Cancels an operation if it is still queued (a running one is left to finish); never throws for one already started or over. */
  cancelIfQueued(operationId: string): Promise<void>;
  /** The database's clock, ms. */
  now: () => Promise<number>;
  /** Teams' policies: each member's change is held to its team's, as a PATCH would be. @defaultValue none */
  policies?: Pick<TeamPolicyStore, 'teamPolicy' | 'teamUsage'>;
  /** Told after a person's action changed a rollout: carries out the webhooks its events became. Must not throw. @defaultValue nothing */
  afterChange?(): void;
}

/** A plan and where it came from: what POST /v1/rollouts/preview answers. */
export interface RolloutPreview {
  plan: RolloutPlan;
  blueprint: Blueprint<any>;
  /** The change as it would be pinned: `newest-standard` resolved to a version. */
  change: RolloutChange;
}

const requester = describePrincipal;

const ACTIVE: ReadonlySet<RolloutStatus> = new Set(['pending', 'running', 'soaking', 'awaiting-approval']);

/** Creates rollouts from their plan, shows them, and carries out what people ask of a running one. */
export class RolloutService {
  constructor(private readonly deps: RolloutServiceDeps) {}

  /** The plan of a rollout, as it would be created now; nothing is recorded. */
  async preview(principal: Principal, body: CreateRolloutBody): Promise<RolloutPreview> {
    const team = this.teamFor(principal, body.selector.team);
    const blueprint = knownBlueprint(this.deps.blueprints, body.selector.blueprint, 'selector.blueprint');
    const change = resolveTarget(changeOf(body.change), blueprint, await this.deps.now());
    // The change is stored with the rollout and shown in its answers: no secret may ride in it.
    const secret = 'spec' in change ? writeOnlyFields(blueprint).find((f) => f in change.spec) : undefined;
    if (secret) {
      const message = 'is write-only (a secret): set it on each cluster with PATCH /v1/clusters/{name}, not through a rollout';
      throw new InputError(`change.spec.${secret}: ${message}`, [{ field: `change.spec.${secret}`, rule: 'write_only', message }]);
    }
    const clusters = await this.selected(team, body);
    const policies = new Map<string, TeamPolicy>();
    for (const t of new Set(clusters.map((c) => c.team))) policies.set(t, (await this.deps.policies?.teamPolicy(t)) ?? {});
    const policy = (cluster: ClusterRecord, from: Record<string, unknown>, to: Record<string, unknown>) => {
      const facts = blueprint.facts && { from: blueprint.facts(from), to: blueprint.facts(to) };
      return changeIssues(policies.get(cluster.team) ?? {}, cluster.team, {
        blueprint: blueprint.name,
        from: facts?.from ?? null,
        to: facts?.to ?? null,
      });
    };
    const plan = planRollout(body, clusters, blueprint, (c) => this.deps.sealer.open(c.spec), change, policy);
    return { plan: await this.heldToQuotas(plan, blueprint), blueprint, change };
  }

  /**
   * Records a rollout in preview mode: the driver queues a preview operation of each member's
   * resulting spec and gathers what each would change. Members the change is refused on are listed
   * as excluded, whatever onInvalid says; nothing is changed and no cluster is held.
   */
  enginePreview(principal: Principal, body: CreateRolloutBody): Promise<RolloutRecord> {
    return this.create(principal, { ...body, onInvalid: 'skip' }, 'preview');
  }

  async create(principal: Principal, body: CreateRolloutBody, mode: RolloutMode = 'change'): Promise<RolloutRecord> {
    const { plan, change } = await this.preview(principal, body);
    const invalid = plan.excluded.filter((e) => e.reason === 'invalid');
    if (invalid.length && (body.onInvalid ?? 'refuse') === 'refuse') {
      const issues: FieldIssue[] = invalid.flatMap((e) => e.issues.map((i) => ({ ...i, field: `clusters.${e.clusterName}.${i.field}` })));
      const message = `rollout refused: the change is refused on ${invalid.length} cluster(s): ${describeIssues(issues)}`;
      // Refused by the teams' policies alone, it is refused as a PATCH breaking them would be.
      throw issues.every(byPolicy) ? new PolicyError(message, issues) : new InputError(message, issues);
    }
    if (!plan.members.length) {
      const message = 'selects no live cluster that a stage takes and the change applies to';
      throw new InputError(`selector: ${message}`, [{ field: 'selector', rule: 'no_members', message }]);
    }
    return this.deps.rollouts.createRollout({
      name: body.name,
      team: this.teamFor(principal, body.selector.team) ?? null,
      requestedBy: requester(principal),
      mode,
      startedByTokenId: principal.tokenId,
      selector: body.selector,
      change,
      onInvalid: body.onInvalid ?? 'refuse',
      waitForCleanDriftCheck: body.strategy.waitForCleanDriftCheck ?? false,
      stages: plan.stages,
      excluded: plan.excluded,
      members: plan.members.map((m) => ({
        clusterId: m.cluster.id,
        clusterName: m.cluster.name,
        team: m.cluster.team,
        stage: m.stage,
        steps: m.steps.map((s) => ({ title: s.title, patch: s.patch })),
      })),
    });
  }

  /**
   * The plan with the members that would take their team past its node quota, as a whole, moved to
   * the excluded (onInvalid decides). The steps record their capacity without being refused as they
   * run: this is where a rollout meets the quota.
   */
  private async heldToQuotas(plan: RolloutPlan, blueprint: Blueprint<any>): Promise<RolloutPlan> {
    const facts = blueprint.facts;
    const store = this.deps.policies;
    if (!facts || !store) return plan;
    const growth = plan.members.map((m) => {
      const last = m.steps.at(-1);
      const nodes = last ? nodeCapacity(facts(last.specAfter)) - nodeCapacity(facts(this.deps.sealer.open(m.cluster.spec))) : 0;
      return { cluster: m.cluster.name, team: m.cluster.team, nodes };
    });
    const limits = new Map<string, { maxNodes?: number; usage: number }>();
    for (const team of new Set(growth.filter((g) => g.nodes > 0).map((g) => g.team))) {
      const maxNodes = (await store.teamPolicy(team))?.maxNodes;
      if (maxNodes !== undefined) limits.set(team, { maxNodes, usage: (await store.teamUsage(team)).nodes });
    }
    const outgrown = outgrownQuotas(growth, limits);
    if (!outgrown.size) return plan;
    return {
      ...plan,
      members: plan.members.filter((m) => !outgrown.has(m.cluster.name)),
      excluded: [...plan.excluded, ...[...outgrown].map(([clusterName, issues]) => ({ clusterName, reason: 'invalid' as const, issues }))],
    };
  }

  async get(principal: Principal, id: string): Promise<RolloutRecord> {
    const rollout = await this.deps.rollouts.getRollout(id);
    if (!rollout || !this.sees(principal, rollout)) throw new NotFoundError(`no rollout with id ${id}`);
    return rollout;
  }

  list(principal: Principal, limit: number, cursor?: string): Promise<Page<RolloutRecord>> {
    return this.deps.rollouts.listRollouts({ limit, cursor, ...(principal.admin ? {} : { team: principal.team! }) });
  }

  /** Lets the rollout go past the stage that waits for approval: an admin, or an approver of its team; never the token that started it. */
  async approve(principal: Principal, id: string): Promise<RolloutRecord> {
    const rollout = await this.get(principal, id);
    assertMayApprove(principal, { team: rollout.team, requestedByTokenId: rollout.startedByTokenId });
    const at = new Date(await this.deps.now()).toISOString();
    return this.act(id, (r) => {
      if (r.status !== 'awaiting-approval') throw new ConflictError(`rollout ${id} is ${r.status}, not awaiting approval`);
      const stages = r.stages.map((s, i) => (i === r.currentStage ? { ...s, approvedBy: requester(principal), approvedAt: at } : s));
      return completeStage({ ...r, stages }, at);
    });
  }

  /** No new member starts until it is resumed; members under way finish. */
  async pause(principal: Principal, id: string): Promise<RolloutRecord> {
    await this.get(principal, id);
    return this.act(id, (r) => {
      if (!ACTIVE.has(r.status)) throw new ConflictError(`rollout ${id} is ${r.status}; only a pending or running rollout can be paused`);
      return { status: 'paused', reason: `paused by ${requester(principal)}` };
    });
  }

  /** Continues a paused or halted rollout; the failures that halted it no longer count against its budget. */
  async resume(principal: Principal, id: string): Promise<RolloutRecord> {
    await this.get(principal, id);
    return this.act(id, (r) => {
      if (r.status !== 'paused' && r.status !== 'halted') throw new ConflictError(`rollout ${id} is ${r.status}, not paused or halted`);
      const failed = r.members.filter((m) => m.stage === r.currentStage && m.state === 'failed').length;
      const stages = r.stages.map((s, i) => (i === r.currentStage && r.status === 'halted' ? { ...s, acceptedFailures: failed } : s));
      return { status: 'running', reason: null, stages };
    });
  }

  /** Runs the failed members again with the same pinned change; a halted rollout runs again. */
  async retryFailed(principal: Principal, id: string): Promise<RolloutRecord> {
    await this.get(principal, id);
    return this.act(id, (r) => {
      if (FINAL_ROLLOUT_STATUSES.has(r.status)) throw new ConflictError(`rollout ${id} is ${r.status}; nothing to retry`);
      const failed = r.members.filter((m) => m.state === 'failed');
      if (!failed.length) throw new ConflictError(`rollout ${id} has no failed member`);
      const stages = r.stages.map((s) => ({ ...s, acceptedFailures: 0 }));
      return {
        ...(r.status === 'halted' ? { status: 'running' as const, reason: null } : {}),
        stages,
        members: failed.map((m) => ({ clusterId: m.clusterId, state: 'pending' as const, clearError: true })),
      };
    });
  }

  /** Ends the rollout: members not started never start, queued operations are cancelled, running ones finish. */
  async cancel(principal: Principal, id: string): Promise<RolloutRecord> {
    await this.get(principal, id);
    const cancelled = await this.act(id, (r) => {
      if (FINAL_ROLLOUT_STATUSES.has(r.status)) throw new ConflictError(`rollout ${id} is already ${r.status}`);
      const pending = r.members.filter((m) => m.state === 'pending');
      const inFlight = r.members.some((m) => IN_FLIGHT_STATES.has(m.state));
      return {
        status: 'cancelled',
        reason: `cancelled by ${requester(principal)}`,
        members: pending.map((m) => ({
          clusterId: m.clusterId,
          state: 'cancelled' as const,
          reason: 'the rollout was cancelled before it started',
        })),
        ...(inFlight ? {} : { finished: true }),
      };
    });
    for (const m of cancelled.members) {
      if (IN_FLIGHT_STATES.has(m.state) && m.currentOperationId) await this.deps.cancelIfQueued(m.currentOperationId);
    }
    return cancelled;
  }

  /** The rollout's events after `afterSeq`; the caller has checked that the rollout is visible. */
  events(id: string, afterSeq: number, limit: number): Promise<RolloutEvent[]> {
    return this.deps.rollouts.listEvents(id, afterSeq, limit);
  }

  private async act(id: string, decide: (r: RolloutRecord) => RolloutPatch): Promise<RolloutRecord> {
    const changed = await this.deps.rollouts.changeRollout(id, decide);
    this.deps.afterChange?.();
    return changed;
  }

  private sees(principal: Principal, rollout: RolloutRecord): boolean {
    return principal.admin || (rollout.team !== null && rollout.team === principal.team);
  }

  /** The team a rollout is limited to: the token's own for a team token, the selector's (or none) for an admin. */
  private teamFor(principal: Principal, requested: string | undefined): string | undefined {
    if (principal.admin) return requested;
    if (requested && requested !== principal.team) {
      const message = `must be your own team ("${principal.team}")`;
      throw new InputError(`selector.team: ${message}`, [{ field: 'selector.team', rule: 'own_team', message }]);
    }
    return principal.team!;
  }

  /** Live clusters of the selector, in name order. */
  private async selected(team: string | undefined, body: CreateRolloutBody): Promise<ClusterRecord[]> {
    const clusters: ClusterRecord[] = [];
    for await (const c of allClusters(this.deps.clusters, { team, blueprint: body.selector.blueprint, labels: body.selector.labels }))
      clusters.push(c);
    return clusters.filter((c) => c.status !== 'destroyed' && c.status !== 'destroying');
  }
}
