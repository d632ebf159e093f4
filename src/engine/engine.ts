import type { BlueprintContext } from '../blueprints/blueprint.js';
import type { PlannedStep } from '../domain/approval.js';
import type { ChangeSummary, OperationError, OperationEvent, OperationKind } from '../domain/operation.js';

/**
 * An operation bound to an approval. `plan`: only make the plan a person is asked to approve (this
 * kind's preview, on a refreshed view of the resources), changing nothing. `apply`: make the plan
 * again and run only if it is the approved one, resource by resource; otherwise fail `plan-changed`.
 */
export type ApprovalStep = { step: 'plan' } | { step: 'apply'; approvedPlan: PlannedStep[] };

/** One operation to run against one cluster stack. Serializable: it crosses into the job's child process. */
export interface EngineRequest {
  operationId: string;
  kind: OperationKind;
  /** The cluster name; the stack is `<project>/<stackName>`. */
  stackName: string;
  blueprint: string;
  spec: Record<string, unknown>;
  context: BlueprintContext;
  /**
   * A previous run on this stack did not end cleanly (its worker died, it was drained, cancelled or
   * killed): before running, break the lock it may have left (its processes are known dead) and
   * clear pending operations from the state.
   */
  recover: boolean;
  /** Absent for an operation that waits for no approval. */
  approval?: ApprovalStep;
}

export interface EngineResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  summary: ChangeSummary | null;
  /** Stack outputs, secret ones replaced by the string "[secret]". */
  outputs: Record<string, unknown> | null;
  error: OperationError | null;
}

export type EngineEvent = Pick<OperationEvent, 'type' | 'data'>;

export interface EngineRunOptions {
  /** Called for every engine event and output line, in order. */
  onEvent(event: EngineEvent): void;
  /** Aborting asks the CLI to cancel gracefully (SIGINT); the run then resolves `cancelled`. */
  signal: AbortSignal;
}

/** The Automation API behind one small interface; Pulumi's errors are translated inside its implementation. */
export interface Engine {
  run(request: EngineRequest, options: EngineRunOptions): Promise<EngineResult>;
}
