import { readFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  LocalWorkspace,
  type PulumiCommand,
  type EngineEvent as PulumiEngineEvent,
  type OutputMap,
  type Stack,
} from '@pulumi/pulumi/automation/index.js';
import type { BlueprintRegistry } from '../blueprints/registry.js';
import { assertNever } from '../domain/assert-never.js';
import { planDifferences, plannedSteps } from '../domain/approval.js';
import { SECRET_PLACEHOLDER, type ChangeSummary, type OperationError, type OperationKind } from '../domain/operation.js';
import type { OperationErrorCode } from '../domain/operation-error.js';
import { ChangeTracker } from './change-tracker.js';
import { PolicyFindings } from './policy-findings.js';
import type { PolicyPacks } from './policy-packs.js';
import type { Engine, EngineEvent, EngineRequest, EngineResult, EngineRunOptions } from './engine.js';
import { leanStack, uncheckedStack } from './lean-stack.js';
import { commandFromPath } from './pulumi-cli.js';
import { RootStackOutputs } from './root-stack-outputs.js';
import { fileBackendDir, type PulumiEnv } from './pulumi-env.js';
import { translateError, type FailureContext } from './translate-error.js';
import { tracedCommand } from './traced-pulumi-command.js';
import { failSpan, inSpan, operationAttributes } from '../tracing/tracing.js';

/** Dependencies and settings of {@link AutomationEngine}. */
export interface AutomationEngineOptions {
  /** Pulumi project of every stack (`clusterd`, as in Pulumi.yaml). */
  projectName: string;
  /** Directory holding one work directory per stack (`<workRoot>/<stackName>`); created when missing. */
  workRoot: string;
  /** Environment of every CLI call, from `buildPulumiEnv`; must carry PULUMI_BACKEND_URL and PATH. */
  env: PulumiEnv;
  /** Secrets provider for new stacks: `passphrase` or a KMS URL. */
  secretsProvider: string;
  registry: BlueprintRegistry;
  /** The CLI to run. @defaultValue the first `pulumi` found on `env.PATH` */
  pulumiCommand?: PulumiCommand;
  /** Policy packs every preview, update and drift check runs. @defaultValue none */
  policyPacks?: PolicyPacks;
  /**
   * Where the CLI sends its own spans (its `--otel-traces`; see traced-pulumi-command.ts) when a run
   * is traced. @defaultValue none: the CLI is given no trace
   */
  cliTraces?: string | null;
}

/** Runs operations through the Pulumi Automation API, one stack per cluster and one work directory per stack. */
export class AutomationEngine implements Engine {
  readonly #opts: AutomationEngineOptions;
  #command: Promise<PulumiCommand> | undefined;

  constructor(opts: AutomationEngineOptions) {
    if (!opts.env.PULUMI_BACKEND_URL) throw new Error('env.PULUMI_BACKEND_URL is required');
    this.#opts = opts;
  }

  /** Runs the operation in a span of its own, which the CLI's spans join. */
  run(request: EngineRequest, options: EngineRunOptions): Promise<EngineResult> {
    const { operationId: id, kind, stackName: clusterName, blueprint } = request;
    return inSpan(`engine ${kind}`, { attributes: operationAttributes({ id, kind, clusterName, blueprint }) }, async (span) => {
      const result = await this.#run(request, options);
      span.setAttribute('clusterd.operation.status', result.status);
      if (result.status === 'failed') failSpan(span, result.error?.code ?? 'failed');
      return result;
    });
  }

  async #run(request: EngineRequest, { onEvent, signal }: EngineRunOptions): Promise<EngineResult> {
    const failure: FailureContext = { diagnostics: [], redact: secretsOf(this.#opts.env, request.spec) };
    const blueprint = this.#opts.registry.get(request.blueprint);
    const tracker = new ChangeTracker(request.kind, { noise: blueprint?.driftNoise ?? [], redact: failure.redact });
    const lines = new LineSplitter((line) => onEvent({ type: 'log', data: line }));
    const rootOutputs = new RootStackOutputs();
    const findings = new PolicyFindings();
    const hooks = {
      signal,
      onOutput: (chunk: string) => lines.push(chunk),
      onEvent: (event: PulumiEngineEvent) => {
        tracker.observe(event);
        findings.observe(event);
        rootOutputs.observe(event);
        const diag = event.diagnosticEvent;
        if (diag?.severity === 'error') failure.diagnostics.push({ urn: diag.urn, message: diag.message });
        // The SDK's debug diagnostics print resource registrations with their values, secrets in clear.
        if ((diag?.severity as string | undefined) === 'debug') return;
        onEvent({ type: 'engine', data: event } satisfies EngineEvent);
      },
    };
    try {
      const stack = await this.#stack(request);
      if (!stack) return { status: 'succeeded', summary: tracker.summary(), outputs: null, error: null };
      leanStack(stack, () => rootOutputs.get());
      if (request.recover) await this.#recover(stack, request.stackName, onEvent);
      if (signal.aborted) return cancelled(null);
      const summary = () => withFindings(tracker.summary(), findings);
      // An update stops at the first resource a mandatory policy refuses, after applying those before
      // it: the policies see its preview first, so that a refused update applies nothing.
      const checksFirst = this.#policy.policyPacks.length > 0 && appliesSpec(request.kind);
      if (request.approval || checksFirst) {
        await this.#plan(stack, request.kind, hooks, Boolean(request.approval));
        lines.flush();
        if (signal.aborted) return cancelled(summary());
        if (findings.mandatory().length) return { status: 'failed', summary: summary(), outputs: null, error: refusedByPolicy(findings) };
        if (request.approval?.step === 'plan') return { status: 'succeeded', summary: summary(), outputs: null, error: null };
        if (request.approval) {
          const changed = planDifferences(request.approval.approvedPlan, plannedSteps(tracker.summary()));
          if (changed.length) return { status: 'failed', summary: summary(), outputs: null, error: planChanged(changed) };
        }
        tracker.reset();
      }
      const outputs = await this.#operateOn(stack, request, hooks, tracker);
      lines.flush();
      if (signal.aborted) return cancelled(summary());
      return { status: 'succeeded', summary: summary(), outputs, error: null };
    } catch (err) {
      lines.flush();
      const summary = withFindings(tracker.summary(), findings);
      if (signal.aborted) return cancelled(summary);
      const error = findings.mandatory().length ? refusedByPolicy(findings) : this.#explain(err, failure);
      return { status: 'failed', summary, outputs: null, error };
    }
  }

  /** The policy packs every preview and update runs (the CLI runs none on a refresh or a destroy), as its options. */
  get #policy(): { policyPacks: string[]; policyPackConfigs?: string[] } {
    const { packs = [], configs = [] } = this.#opts.policyPacks ?? {};
    return configs.length ? { policyPacks: packs, policyPackConfigs: configs } : { policyPacks: packs };
  }

  /** Opens the operation's stack (creating it for a provision); null when a destroy finds none. */
  async #stack(request: EngineRequest): Promise<Stack | null> {
    const blueprint = this.#opts.registry.get(request.blueprint);
    if (!blueprint) throw new EngineInputError('blueprint-unknown', `No blueprint named "${request.blueprint}" is loaded in this worker`);
    const parsed = blueprint.specSchema.safeParse(request.spec);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new EngineInputError('spec-invalid', `spec.${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
    }
    const workDir = path.join(this.#opts.workRoot, request.stackName);
    await mkdir(workDir, { recursive: true });
    const args = {
      stackName: request.stackName,
      projectName: this.#opts.projectName,
      program: blueprint.program(parsed.data, request.context),
    };
    const wsOpts = {
      workDir,
      envVars: this.#opts.env,
      secretsProvider: this.#opts.secretsProvider,
      projectSettings: { name: this.#opts.projectName, runtime: 'nodejs' as const },
      pulumiCommand: await this.#pulumiCommand(),
    };
    if (request.kind === 'provision') {
      // A first attempt finds no stack: `stack init` at once saves the failing `stack select` that
      // createOrSelectStack starts with, a whole CLI process. One after a run that died may find the
      // stack locked, which `stack init` cannot get past: it selects, and the recovery breaks the lock.
      if (!request.recover) {
        try {
          return await LocalWorkspace.createStack(args, wsOpts);
        } catch (err) {
          if ((err as Error).name !== 'StackAlreadyExistsError') throw err;
        }
      }
      return LocalWorkspace.createOrSelectStack(args, wsOpts);
    }
    // The other kinds act on a stack a provision made, and their own command proves it exists (see
    // #operateOn): no `stack select` first. A recovery acts on the stack before any command: it selects.
    if (!request.recover) return uncheckedStack(args, wsOpts);
    switch (request.kind) {
      case 'update':
      case 'preview':
      case 'remediate':
        return LocalWorkspace.createOrSelectStack(args, wsOpts);
      case 'refresh':
      case 'drift-check':
        return LocalWorkspace.selectStack(args, wsOpts);
      case 'destroy':
        try {
          return await LocalWorkspace.selectStack(args, wsOpts);
        } catch (err) {
          if ((err as Error).name !== 'StackNotFoundError') throw err;
          await rm(workDir, { recursive: true, force: true });
          return null;
        }
      default:
        return assertNever(request.kind, 'operation kind');
    }
  }

  /**
   * Runs the operation on a stack that may not exist (see #stack), and where it does not, does what
   * selecting it first would have: kinds that may start a stack create it and run again, a destroy has
   * nothing to do (the stack was never created, or is gone already), the others fail.
   */
  async #operateOn(stack: Stack, request: EngineRequest, hooks: Hooks, tracker: ChangeTracker): Promise<Record<string, unknown> | null> {
    try {
      return await this.#operate(stack, request, hooks, tracker);
    } catch (err) {
      if ((err as Error).name !== 'StackNotFoundError') throw err;
      switch (request.kind) {
        case 'update':
        case 'preview':
        case 'remediate':
          await stack.workspace.createStack(stack.name);
          return this.#operate(stack, request, hooks, tracker);
        case 'destroy':
          await rm(stack.workspace.workDir, { recursive: true, force: true });
          return null;
        case 'provision':
        case 'refresh':
        case 'drift-check':
          throw err;
        default:
          return assertNever(request.kind, 'operation kind');
      }
    }
  }

  /** Runs the operation proper; returns the stack outputs it leaves (secrets masked), if any. */
  async #operate(stack: Stack, request: EngineRequest, hooks: Hooks, tracker: ChangeTracker): Promise<Record<string, unknown> | null> {
    // An approved plan was made on refreshed resources: its apply sees them the same way.
    const refresh = request.approval?.step === 'apply';
    const policy = this.#policy;
    switch (request.kind) {
      case 'provision':
      case 'update':
        return maskOutputs((await stack.up({ ...hooks, refresh, ...policy })).outputs);
      case 'remediate':
        // Refresh first, so that the update sees the live resources and puts back what drifted.
        return maskOutputs((await stack.up({ ...hooks, refresh: true, ...policy })).outputs);
      case 'preview':
        await stack.preview({ ...hooks, ...policy });
        return null;
      case 'refresh':
        await stack.refresh(hooks);
        return maskOutputs(await stack.outputs());
      case 'drift-check':
        // Two read-only looks, neither writing the state: does the cloud still match the state
        // (refresh --preview-only), and does the state still match the desired spec (a preview
        // that should find nothing to do)?
        tracker.phase('cloud');
        await stack.previewRefresh(hooks);
        if (hooks.signal.aborted) return null;
        tracker.phase('spec');
        await stack.preview({ ...hooks, ...policy });
        return null;
      case 'destroy':
        await stack.destroy({ ...hooks, refresh });
        if (hooks.signal.aborted) return null;
        await stack.workspace.removeStack(stack.name);
        // The work directory only holds the stack's settings, which went with the stack.
        await rm(stack.workspace.workDir, { recursive: true, force: true });
        return null;
      default:
        return assertNever(request.kind, 'operation kind');
    }
  }

  /**
   * The plan of an operation: its kind's preview with the policy packs. For a person to approve, it
   * runs after a refresh (not saved), so that it shows what the resources really need, changes made
   * outside Pulumi included. An approved
   * apply makes it again and compares: what runs is then what was approved, but for a change in the
   * seconds between that preview and the apply. Pulumi's own update plans (`--save-plan`, `up --plan`)
   * check each step as the update runs, after the steps before it were applied, let a change of
   * outputs alone through every step and then fail without an error (pulumi/pulumi#16670), and take
   * no destroy: see docs/guardrails.md.
   */
  async #plan(stack: Stack, kind: OperationKind, hooks: Hooks, forApproval: boolean): Promise<void> {
    switch (kind) {
      case 'provision':
      case 'update':
      case 'remediate':
        await stack.preview({ ...hooks, refresh: forApproval || kind === 'remediate', ...this.#policy });
        return;
      case 'destroy':
        await stack.previewDestroy({ ...hooks, refresh: true });
        return;
      case 'refresh':
        await stack.previewRefresh(hooks);
        return;
      case 'preview':
      case 'drift-check':
        throw new EngineInputError('spec-invalid', `a ${kind} changes nothing: it is never held for approval`);
      default:
        assertNever(kind, 'operation kind');
    }
  }

  /**
   * Recovery after a run that died mid-operation (its worker was killed): the lock stays behind and the
   * state keeps `pending_operations`. Measured on a file:// backend with CLI 3.259 and an earlier SDK
   * (check again after an upgrade): `pulumi cancel` deletes a DIY lock (and succeeds when there is
   * none); `stack import` is refused while the lock exists; `up` only warns about pending operations,
   * but a pending create would be forgotten silently, so they are dropped here explicitly (export,
   * delete, import), which is what `refresh --clear-pending-creates` does non-interactively. The
   * caller guarantees the holder is dead.
   */
  async #recover(stack: Stack, stackName: string, onEvent: EngineRunOptions['onEvent']): Promise<void> {
    let unlocked: string;
    try {
      await stack.cancel();
      unlocked = 'lock released with pulumi cancel';
    } catch {
      unlocked = `removed ${await this.#removeLockFiles(stackName)} lock file(s)`;
    }
    const state = await stack.exportStack();
    const deployment = state.deployment as { pending_operations?: Array<{ type?: string; resource?: { urn?: string } }> } | undefined;
    const pending = deployment?.pending_operations ?? [];
    if (deployment && pending.length > 0) {
      delete deployment.pending_operations;
      await stack.importStack(state);
    }
    const dropped = pending.map((p) => `${p.type ?? '?'} ${p.resource?.urn?.split('::').pop() ?? '?'}`).join(', ');
    onEvent({ type: 'log', data: `recovery: ${unlocked}; cleared ${pending.length} pending operation(s)${dropped ? `: ${dropped}` : ''}` });
  }

  /**
   * Fallback when `pulumi cancel` fails: deletes the lock files of a `file://` backend
   * (`.pulumi/locks/<org>/<project>/<stack>/*.json`, or `.pulumi/locks/<stack>/` in the legacy layout).
   * Other backends are left to an operator.
   */
  async #removeLockFiles(stackName: string): Promise<number> {
    const backendDir = fileBackendDir(this.#opts.env.PULUMI_BACKEND_URL ?? '');
    if (!backendDir) return 0;
    const locks = path.join(backendDir, '.pulumi', 'locks');
    let removed = 0;
    for (const dir of await lockDirs(locks, this.#opts.projectName, stackName)) {
      for (const file of await readdir(dir).catch(() => [] as string[])) {
        if (!file.endsWith('.json')) continue;
        await rm(path.join(dir, file), { force: true });
        await rm(path.join(dir, `${file}.attrs`), { force: true });
        removed++;
      }
    }
    return removed;
  }

  #explain(err: unknown, failure: FailureContext): OperationError {
    if (err instanceof EngineInputError) return { code: err.code, title: 'The operation cannot run', detail: err.message };
    return translateError(err, failure);
  }

  #pulumiCommand(): Promise<PulumiCommand> {
    const { cliTraces } = this.#opts;
    this.#command ??= (
      this.#opts.pulumiCommand ? Promise.resolve(this.#opts.pulumiCommand) : commandFromPath(this.#opts.env.PATH ?? '', this.#opts.workRoot)
    ).then((command) => (cliTraces ? tracedCommand(command, cliTraces) : command));
    return this.#command;
  }
}

type Hooks = Required<Pick<EngineRunOptions, 'signal'>> & { onOutput(chunk: string): void; onEvent(e: PulumiEngineEvent): void };

class EngineInputError extends Error {
  constructor(
    readonly code: Extract<OperationErrorCode, 'blueprint-unknown' | 'spec-invalid'>,
    message: string,
  ) {
    super(message);
  }
}

/** Kinds whose run applies the desired spec through `up`. */
const appliesSpec = (kind: OperationKind) => kind === 'provision' || kind === 'update' || kind === 'remediate';

/** The summary, with what the policy packs reported that did not stop the run. */
function withFindings(summary: ChangeSummary, findings: PolicyFindings): ChangeSummary {
  const reported = [...findings.advisory(), ...findings.remediated()];
  return reported.length ? { ...summary, policyViolations: reported } : summary;
}

/** A run the policy packs refused: every mandatory finding, structured, and the first few in words. */
function refusedByPolicy(findings: PolicyFindings): OperationError {
  const violations = findings.mandatory();
  const first = violations[0]!;
  const lines = violations
    .slice(0, 5)
    .map((v) => `${v.pack}/${v.policy} on ${v.resource?.split('::').pop() ?? 'the stack'}: ${v.message.split('\n').at(-1)}`);
  return {
    code: 'policy-violation',
    title: `Refused by policy ${first.pack}/${first.policy}${violations.length > 1 ? ` and ${violations.length - 1} more` : ''}`,
    detail: `${lines.join('; ')}${violations.length > 5 ? `; and ${violations.length - 5} more` : ''}. Nothing was applied.`,
    violations,
  };
}

function planChanged(differences: string[]): OperationError {
  const shown = differences.slice(0, 10).join('; ');
  const more = differences.length > 10 ? `; and ${differences.length - 10} more` : '';
  return {
    code: 'plan-changed',
    title: 'The plan changed since it was approved; nothing was applied',
    detail: `${shown}${more}. The resources or the programs changed after the approval; make the request again to have the new plan approved.`,
  };
}

function cancelled(summary: ChangeSummary | null): EngineResult {
  return {
    status: 'cancelled',
    summary,
    outputs: null,
    error: {
      code: 'cancelled',
      title: 'The operation was cancelled',
      detail: 'The engine stopped after finishing the resource operations in flight.',
    },
  };
}

/** Stack outputs with every secret replaced by {@link SECRET_PLACEHOLDER}. */
export function maskOutputs(outputs: OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.secret ? SECRET_PLACEHOLDER : v.value]));
}

/** Values that must never appear in an error: the passphrase, and string spec fields named like secrets. */
function secretsOf(env: PulumiEnv, spec: Record<string, unknown>): string[] {
  const fromSpec = Object.entries(spec)
    .filter(([k, v]) => /secret|password|token|key/i.test(k) && typeof v === 'string')
    .map(([, v]) => v as string);
  return [passphraseIn(env), ...fromSpec].filter((s) => s.length >= 4);
}

/** The passphrase the CLI reads from its file, or '' when there is none to read. */
function passphraseIn(env: PulumiEnv): string {
  try {
    return env.PULUMI_CONFIG_PASSPHRASE_FILE ? readFileSync(env.PULUMI_CONFIG_PASSPHRASE_FILE, 'utf8').trim() : '';
  } catch {
    return '';
  }
}

/** Lock directories of one stack, for project-scoped (`<org>/<project>/<stack>`) and legacy (`<stack>`) layouts. */
async function lockDirs(locks: string, project: string, stack: string): Promise<string[]> {
  const dirs = [path.join(locks, stack)];
  for (const org of await readdir(locks).catch(() => [])) dirs.push(path.join(locks, org, project, stack));
  return dirs;
}

/** Splits streamed output chunks into whole lines. */
class LineSplitter {
  #rest = '';
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: string): void {
    const parts = (this.#rest + chunk).split('\n');
    this.#rest = parts.pop() ?? '';
    for (const line of parts) this.emit(line.replace(/\r$/, ''));
  }
  flush(): void {
    if (this.#rest) this.emit(this.#rest);
    this.#rest = '';
  }
}
