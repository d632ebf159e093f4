/**
 * The IPC protocol between a worker and the child process running one operation
 * (`queue/child-runner.ts` on the worker's side, `queue/child-entry.ts` in the child). The channel
 * uses advanced (structured clone) serialization; nothing crosses argv or the environment but the
 * job's mark (see `queue/process-tree.ts`).
 */
import type { EngineEvent, EngineRequest, EngineResult } from '../src/engine/engine.js';
import type { KnownCli } from '../src/engine/pulumi-cli.js';
import type { PolicyPacks } from '../src/engine/policy-packs.js';
import type { PulumiEnv } from '../src/engine/pulumi-env.js';
import type { TracingSettings, TransferredSpan } from '../src/tracing/tracing.js';

/** What the child needs to build its engine. Crosses the IPC channel, never argv or the environment. */
export interface ChildConfig {
  /** Pulumi project of every stack. */
  projectName: string;
  /** Parent directory of the per-stack work directories. */
  workRoot: string;
  /** Environment of every Pulumi CLI call (names the passphrase file). */
  env: PulumiEnv;
  /** Secrets provider for new stacks. */
  secretsProvider: string;
  /** Absolute paths of the blueprint modules to load. */
  blueprintModules: string[];
  /** The service's data directory, handed to blueprint modules. */
  dataDir: string;
  /** The CLI the worker found and checked, or null: the child then looks for it itself. */
  cli: KnownCli | null;
  /** Policy packs (checked by the worker) every preview, update and drift check runs. */
  policyPacks: PolicyPacks;
}

/** A traced run: the child traces with the worker's settings, under the worker's span of the run. */
export interface ChildTrace {
  /** The `traceparent` of the worker's span of this run. */
  parent: string;
  settings: TracingSettings;
}

/**
 * Parent -> child messages. `ack`: the result arrived; the child may exit. `deadline`: if the parent
 * dies, the engine must be dead within `inMs` of `sentAt` (the parent's `Date.now()` when sending:
 * both read the same machine's clock, so a message that waited in the channel, e.g. while the child
 * was still loading its modules, does not make the child believe it has more time than it has).
 */
export type ToChild =
  | { type: 'run'; request: EngineRequest; config: ChildConfig; trace: ChildTrace | null }
  | { type: 'cancel' }
  | { type: 'ack' }
  | { type: 'deadline'; inMs: number; sentAt: number };

/** Child -> parent messages. `spans`: spans the child finished, which the worker exports (sent before the result). */
export type FromChild =
  { type: 'event'; event: EngineEvent } | { type: 'spans'; spans: TransferredSpan[] } | { type: 'result'; result: EngineResult };
