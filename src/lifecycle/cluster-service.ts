import type { Blueprint } from '../blueprints/blueprint.js';
import { writeOnlyFields } from '../blueprints/write-only.js';
import type { SpecSealer } from '../secrets/spec-sealer.js';
import type { ClusterRecord } from '../domain/cluster.js';
import type { OperationKind, OperationRecord } from '../domain/operation.js';
import { ConflictError, InputError, NotFoundError, PolicyError, type FieldIssue } from '../errors.js';
import { parseDuration } from '../domain/duration.js';
import type { TeamPolicy } from '../domain/team-policy.js';
import { changeIssues, creationIssues, nodeCapacity } from '../guardrails/policy-rules.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import { assertMayReadSecrets } from '../auth/permissions.js';
import type { Page } from '../domain/page.js';
import type { BlueprintLookup, OperationDispatcher } from '../ports.js';
import type { ClusterChange, ClusterFilter, ClusterStore } from '../store/cluster-store.js';
import type { KubeconfigReadStore } from '../store/kubeconfig-read-store.js';
import { policyOf } from '../maintenance/policy-schema.js';
import { knownBlueprint } from './known-blueprint.js';
import { mergePatch } from './merge-patch.js';
import { parseOrThrow } from './parse.js';
import { describeIssues } from './zod-issues.js';
import { checkExpiryDestroyable, resolveExpiry, type TeamTtlCaps } from './expiry-rules.js';
import type { CreateClusterBody, UpdateClusterBody } from './requests.js';
import { checkNewSpec, supportChangeIssues, versionNewSpec } from '../versions/new-cluster-version.js';

export interface ClusterServiceDeps {
  store: ClusterStore & KubeconfigReadStore;
  blueprints: BlueprintLookup;
  dispatcher: OperationDispatcher;
  /** Seals write-only spec fields before they are stored, and opens them where a rule must read them. */
  sealer: Pick<SpecSealer, 'seal' | 'open'>;
  /** Longest life of a cluster per team, where the team's policy sets none. @defaultValue no caps */
  maxTtl?: TeamTtlCaps;
  /**
   * The clock expiries are set by (ttl, caps, "in the future"), in ms since the epoch: the database's
   * in the service, so that every process compares expiries with the clock that set them.
   */
  now: () => Promise<number>;
  /**
   * Reads a stack output in clear (the kubeconfig); absent when this process cannot reach the state.
   * `version` changes whenever the outputs may have (the cluster's `updatedAt`), so that a value
   * shared between requests is never older than the cluster record. Rejects with
   * UnavailableError when the read cannot be done in time.
   */
  readOutput?(request: { stackName: string; key: string; version: string; queue: string }): Promise<unknown>;
}

export interface Accepted {
  cluster: ClusterRecord;
  operation: OperationRecord;
  /** What the service decided for the caller that the request did not say (a new cluster put in extended support). */
  notices?: string[];
}

/** A change: an operation when the spec or labels changed, none when only settings did. */
export interface Changed {
  cluster: ClusterRecord;
  operation: OperationRecord | null;
}

/** How a person's operation is queued. */
export interface QueueOptions {
  /** Wait for the cluster's maintenance window, as the service's own work does. @defaultValue false: runs at once */
  respectMaintenance?: boolean;
}

/** A request that breaks its team's policy is refused with every rule it breaks. */
function refuseBreaches(team: string, issues: FieldIssue[]): void {
  if (issues.length) throw new PolicyError(`refused by the policy of team "${team}": ${describeIssues(issues)}`, issues);
}

const requester = describePrincipal;

/**
 * Accepts lifecycle requests: checks them against the blueprint and the cluster's state,
 * records them, and hands the operation to the dispatcher. Nothing runs here.
 */
export class ClusterService {
  constructor(private readonly deps: ClusterServiceDeps) {}

  async create(principal: Principal, body: CreateClusterBody): Promise<Accepted> {
    const team = this.teamFor(principal, body.team);
    const blueprint = this.blueprint(body.blueprint);
    const now = await this.deps.now();
    const versionRules = { now, allowExtendedSupport: body.allowExtendedSupport ?? false };
    const versioned = versionNewSpec(blueprint, body.spec, versionRules);
    const spec = parseOrThrow(blueprint.specSchema, versioned.spec, 'spec', 'spec');
    checkNewSpec(blueprint, spec, versionRules);
    const facts = blueprint.facts?.(spec) ?? null;
    const draft = {
      name: body.name,
      team,
      blueprint: blueprint.name,
      labels: body.labels ?? {},
      spec: this.sealed(blueprint, spec),
      driftPolicy: body.driftPolicy,
      maintenance: body.maintenance && policyOf(body.maintenance),
      nodeCapacity: nodeCapacity(facts),
    };
    // Held to the policy the store reads under the team's lock as it records: no read of our own
    // beforehand, and no policy set in between goes unseen.
    const admit = (found: TeamPolicy | null) => {
      const policy = found ?? {};
      refuseBreaches(team, creationIssues(policy, team, { blueprint: blueprint.name, facts, labels: draft.labels }));
      const expiresAt = resolveExpiry(body, team, this.ttlCaps(team, policy), now, true);
      checkExpiryDestroyable(expiresAt, blueprint.validateDestroy?.(spec) ?? [], body.ttl !== undefined ? 'ttl' : 'expiresAt');
      return { ...draft, expiresAt };
    };
    const accepted = await this.deps.store.createCluster(
      draft,
      { kind: 'provision', requestedBy: requester(principal), requestedByTokenId: principal.tokenId },
      admit,
    );
    await this.deps.dispatcher.dispatch(accepted.operation);
    return { ...accepted, notices: versioned.notices };
  }

  async list(principal: Principal, filter: ClusterFilter): Promise<Page<ClusterRecord>> {
    if (!principal.admin) {
      // Another team's clusters do not exist for this caller: an empty page, not an error.
      if (filter.team && filter.team !== principal.team) return { items: [], nextCursor: null };
      filter = { ...filter, team: principal.team ?? undefined };
    }
    return this.deps.store.listClusters(filter);
  }

  /** The cluster, if the caller may see it; 404 otherwise (another team's cluster included). */
  async get(principal: Principal, name: string): Promise<ClusterRecord> {
    const cluster = await this.deps.store.getCluster(name);
    if (!cluster || (!principal.admin && cluster.team !== principal.team)) {
      throw new NotFoundError(`no cluster named "${name}"`);
    }
    return cluster;
  }

  /**
   * Changes the spec and/or labels (queues an update) and/or settings (drift policy, expiry), all or
   * nothing. Decided under the cluster's lock on the spec as the change before it left it, and on its
   * team's policy then: racing changes each keep their part.
   */
  async update(principal: Principal, name: string, body: UpdateClusterBody): Promise<Changed> {
    const found = await this.liveCluster(principal, name, 'update');
    const blueprint = this.blueprint(found.blueprint);
    const now = await this.deps.now();
    const maintenance = body.maintenance === undefined ? undefined : body.maintenance && policyOf(body.maintenance);
    const decide = (cluster: ClusterRecord, policy: TeamPolicy | null): ClusterChange => {
      const current = this.deps.sealer.open(cluster.spec);
      const merged = body.spec ? mergePatch(current, body.spec) : current;
      const spec = parseOrThrow(blueprint.specSchema, merged, 'spec', 'spec');
      const issues = [
        ...(blueprint.validateChange?.(current, spec, { allowReplace: body.allowReplace ?? false }) ?? []),
        ...supportChangeIssues(blueprint, current, spec, now),
      ];
      if (issues.length) throw new InputError(`change refused: ${describeIssues(issues)}`, issues);
      const facts = blueprint.facts && { from: blueprint.facts(current), to: blueprint.facts(spec) };
      const { team } = cluster;
      refuseBreaches(
        team,
        changeIssues(policy ?? {}, team, {
          blueprint: blueprint.name,
          from: facts?.from ?? null,
          to: facts?.to ?? null,
          labels: body.labels,
        }),
      );
      const expiresAt = resolveExpiry(body, team, this.ttlCaps(team, policy ?? {}), now, false);
      checkExpiryDestroyable(
        expiresAt === undefined ? cluster.expiresAt : expiresAt,
        blueprint.validateDestroy?.(spec) ?? [],
        body.ttl !== undefined ? 'ttl' : 'expiresAt',
      );
      const settings = { driftPolicy: body.driftPolicy, expiresAt, maintenance };
      if (body.spec === undefined && body.labels === undefined) return { settings };
      const nodes = facts ? nodeCapacity(facts.to) : undefined;
      return { settings, update: { spec: this.sealed(blueprint, spec), labels: body.labels, nodeCapacity: nodes } };
    };
    const changed = await this.deps.store.changeCluster(found.id, decide, {
      requestedBy: requester(principal),
      requestedByTokenId: principal.tokenId,
      respectMaintenance: body.respectMaintenance,
    });
    if (changed.operation) await this.deps.dispatcher.dispatch(changed.operation);
    return changed;
  }

  /** The cluster's kubeconfig (a secret output of its stack), for a caller who may see the cluster; the read is recorded. */
  async kubeconfig(principal: Principal, name: string): Promise<{ cluster: ClusterRecord; kubeconfig: string }> {
    assertMayReadSecrets(principal);
    const cluster = await this.get(principal, name);
    if (cluster.status === 'destroyed' || !this.deps.readOutput) throw new NotFoundError(`cluster "${name}" has no kubeconfig`);
    const value = await this.deps.readOutput({
      stackName: cluster.name,
      key: 'kubeconfig',
      version: cluster.updatedAt,
      queue: cluster.team,
    });
    if (typeof value !== 'string' || !value)
      throw new NotFoundError(`cluster "${name}" has no kubeconfig yet (it is made by a successful provision)`);
    await this.deps.store.recordKubeconfigRead(cluster.id, requester(principal));
    return { cluster, kubeconfig: value };
  }

  async kubeconfigReads(principal: Principal, name: string, limit: number): Promise<Array<{ readBy: string; readAt: string }>> {
    const cluster = await this.get(principal, name);
    return this.deps.store.listKubeconfigReads(cluster.id, limit);
  }

  /** Queues the remediation of a drifted cluster: an update with refresh back to its desired spec. */
  async remediate(principal: Principal, name: string, options: QueueOptions = {}): Promise<Accepted> {
    const cluster = await this.liveCluster(principal, name, 'remediate');
    return this.enqueue(principal, cluster, 'remediate', options);
  }

  async destroy(principal: Principal, name: string, options: QueueOptions = {}): Promise<Accepted> {
    const cluster = await this.liveCluster(principal, name, 'destroy');
    const blueprint = this.blueprint(cluster.blueprint);
    // On the spec under the cluster's lock: a change racing this request may have turned deletion protection on.
    const destroyable = (current: ClusterRecord) => {
      const issues = blueprint.validateDestroy?.(this.deps.sealer.open(current.spec)) ?? [];
      if (issues.length) throw new InputError(`destroy refused: ${describeIssues(issues)}`, issues);
    };
    return this.enqueue(principal, cluster, 'destroy', options, destroyable);
  }

  /** Queues a preview, refresh or drift check. */
  async inspect(
    principal: Principal,
    name: string,
    kind: Extract<OperationKind, 'preview' | 'refresh' | 'drift-check'>,
    options: QueueOptions = {},
  ): Promise<Accepted> {
    const cluster = await this.liveCluster(principal, name, kind);
    return this.enqueue(principal, cluster, kind, options);
  }

  private async enqueue(
    principal: Principal,
    cluster: ClusterRecord,
    kind: OperationKind,
    options: QueueOptions,
    check?: (current: ClusterRecord) => void,
  ): Promise<Accepted> {
    const op = {
      kind,
      requestedBy: requester(principal),
      requestedByTokenId: principal.tokenId,
      respectMaintenance: options.respectMaintenance,
    };
    const operation = await this.deps.store.enqueueOperation(cluster.id, op, check);
    await this.deps.dispatcher.dispatch(operation);
    const updated = (await this.deps.store.getClusterById(cluster.id)) ?? cluster;
    return { cluster: updated, operation };
  }

  /** A visible cluster that is not destroyed (a destroy pending is refused under the cluster's lock, by the store). */
  private async liveCluster(principal: Principal, name: string, what: string): Promise<ClusterRecord> {
    const cluster = await this.get(principal, name);
    if (cluster.status === 'destroyed') throw new ConflictError(`cluster "${name}" is destroyed; cannot ${what} it`);
    return cluster;
  }

  /** The team's longest cluster life: its policy's, else the service's default. */
  private ttlCaps(team: string, policy: TeamPolicy): TeamTtlCaps {
    const caps = this.deps.maxTtl ?? {};
    return policy.maxTtl ? { ...caps, [team]: parseDuration(policy.maxTtl)! } : caps;
  }

  /** The spec as stored: its write-only fields sealed. */
  private sealed(blueprint: Blueprint<any>, spec: Record<string, unknown>): Record<string, unknown> {
    return this.deps.sealer.seal(spec, writeOnlyFields(blueprint));
  }

  private blueprint(name: string): Blueprint<any> {
    return knownBlueprint(this.deps.blueprints, name, 'blueprint');
  }

  private teamFor(principal: Principal, requested: string | undefined): string {
    if (principal.admin) {
      if (!requested)
        throw new InputError('team: is required with an admin token', [
          { field: 'team', rule: 'required', message: 'is required with an admin token' },
        ]);
      return requested;
    }
    if (requested && requested !== principal.team) {
      const message = `must be your own team ("${principal.team}")`;
      throw new InputError(`team: ${message}`, [{ field: 'team', rule: 'own_team', message }]);
    }
    return principal.team!;
  }
}
