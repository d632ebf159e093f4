import type { EngineEvent as PulumiEngineEvent, StepEventMetadata } from '@pulumi/pulumi/automation/index.js';
import type { DriftNoiseRule } from '../blueprints/blueprint.js';
import { assertNever } from '../domain/assert-never.js';
import { type ChangeCounts, type ChangeSummary, type OperationKind, type PropertyDiff, type ResourceChange } from '../domain/operation.js';
import { maskSecretValues } from './secret-values.js';

export interface ChangeTrackerOptions {
  /** Properties the blueprint's providers report as changed on every refresh: not drift. */
  noise: DriftNoiseRule[];
  /** Strings that must never appear in a recorded value (the passphrase, secret-looking spec fields). */
  redact: string[];
}

type Phase = 'cloud' | 'spec';

interface Step {
  op: string;
  type: string;
  properties: string[];
  phase: Phase | null;
  diffs: PropertyDiff[];
}

const EMPTY_COUNTS: ChangeCounts = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
const REPLACE_STEPS = new Set(['replace', 'create-replacement', 'delete-replaced', 'discard-replaced']);

/**
 * Builds the ChangeSummary from step events: the last step seen per resource wins (a preview's
 * resourcePreEvent, then the resOutputsEvent once applied). The root stack and providers are not
 * resources a person manages, so they are left out. A drift check runs in two phases (`cloud`,
 * then `spec`); its resources carry the phase and the values that differ, known noise removed.
 */
export class ChangeTracker {
  readonly #steps = new Map<string, Step & { urn: string }>();
  #phase: Phase | null = null;

  constructor(
    private readonly kind: OperationKind,
    private readonly options: ChangeTrackerOptions = { noise: [], redact: [] },
  ) {}

  /** Forgets the steps seen so far: a run that previews before it applies counts only what it applies. */
  reset(): void {
    this.#steps.clear();
  }

  /** Starts a drift-check phase: the steps seen from now on belong to it. */
  phase(phase: Phase): void {
    this.#phase = phase;
  }

  observe(event: PulumiEngineEvent): void {
    const meta = event.resOutputsEvent?.metadata ?? event.resourcePreEvent?.metadata;
    if (!meta || meta.type === 'pulumi:pulumi:Stack' || meta.type.startsWith('pulumi:providers:')) return;
    const reported = topLevel([...(meta.diffs ?? []), ...Object.keys(meta.detailedDiff ?? {})]);
    const field = this.#compares();
    const properties = this.#withoutNoise(meta.type, reported.length ? reported : changedKeys(meta, field));
    const key = `${this.#phase ?? ''}:${meta.urn}`;
    const previous = this.#steps.get(key);
    // A replacement shows up as several steps (create-replacement, replace, delete-replaced); keep "replace".
    const op = previous?.op === 'replace' && REPLACE_STEPS.has(meta.op) ? 'replace' : meta.op;
    const kept = properties.length ? properties : (previous?.properties ?? []);
    const diffs = this.#phase ? kept.map((p) => this.#diff(meta, field, p)) : [];
    this.#steps.set(key, { urn: meta.urn, op, type: meta.type, properties: kept, phase: this.#phase, diffs });
  }

  summary(): ChangeSummary {
    const counts = { ...EMPTY_COUNTS };
    const resources: ResourceChange[] = [];
    for (const step of this.#steps.values()) {
      const op = this.#classify(step.op, step.properties);
      if (op === null) continue;
      if (op === 'same') {
        counts.same++;
        continue;
      }
      if (op in counts) counts[op as keyof ChangeCounts]++;
      const change: ResourceChange = {
        urn: step.urn,
        type: step.type,
        name: step.urn.split('::').pop() ?? step.urn,
        op,
        properties: step.properties,
      };
      if (step.phase) Object.assign(change, { drift: step.phase, diffs: step.diffs });
      resources.push(change);
    }
    return { counts, resources };
  }

  /** A refresh compares outputs (what the resource really is); everything else compares inputs (what the program asks for). */
  #compares(): 'inputs' | 'outputs' {
    switch (this.kind) {
      case 'refresh':
        return 'outputs';
      case 'drift-check':
        return this.#phase === 'spec' ? 'inputs' : 'outputs';
      case 'provision':
      case 'update':
      case 'destroy':
      case 'preview':
      case 'remediate':
        return 'inputs';
      default:
        return assertNever(this.kind, 'operation kind');
    }
  }

  /** Maps an engine step to a summary op; a refresh step that found differences counts as an update. */
  #classify(op: string, properties: string[]): ResourceChange['op'] | 'same' | null {
    if (REPLACE_STEPS.has(op)) return 'replace';
    if (op === 'update' && this.#phase && properties.length === 0) return 'same'; // only noise differed
    if (op === 'create' || op === 'update' || op === 'delete' || op === 'same') return op;
    if (op === 'refresh') return properties.length ? 'update' : 'same';
    if (op === 'read') return 'read';
    return null;
  }

  #withoutNoise(type: string, properties: string[]): string[] {
    if (!this.#phase) return properties;
    const ignored = new Set(this.options.noise.filter((r) => r.type === type).flatMap((r) => r.properties));
    return properties.filter((p) => !ignored.has(p));
  }

  #diff(meta: StepEventMetadata, field: 'inputs' | 'outputs', property: string): PropertyDiff {
    return {
      property,
      state: this.#mask(meta.old?.[field]?.[property]),
      actual: this.#mask(meta.new?.[field]?.[property]),
    };
  }

  /** Secret values (marked by Pulumi, or holding a known secret) become `[secret]`. */
  #mask(value: unknown): unknown {
    return maskSecretValues(value, (s) => this.options.redact.some((secret) => s.includes(secret)));
  }
}

/**
 * Property names that differ between the old and new state of a step, for providers that report no
 * diff of their own (dynamic providers only say "changed").
 */
function changedKeys(meta: StepEventMetadata, field: 'inputs' | 'outputs'): string[] {
  if (!meta.old || !meta.new || meta.op === 'same' || meta.op === 'create' || meta.op === 'delete') return [];
  const before = meta.old[field] ?? {};
  const after = meta.new[field] ?? {};
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => k !== '__provider' && JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .sort();
}

/** `tags.env` and `nodePools[0].size` -> `tags`, `nodePools`. */
function topLevel(paths: string[]): string[] {
  return [...new Set(paths.map((p) => p.split(/[.[]/)[0] ?? p).filter(Boolean))];
}
