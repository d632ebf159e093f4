/**
 * The results of a job whose engine did not report one of its own: written by the job's child (a
 * blueprint module that does not load, an engine that crashed, a cancel before the start) or by the
 * worker's runner (an engine it killed, a child that died).
 */
import type { OperationErrorCode } from '../src/domain/operation-error.js';
import type { EngineResult } from '../src/engine/engine.js';

/** Why the runner killed a job's processes: its cancel outlasted the grace, or the lane's lease is about to lapse. */
export type KillReason = 'cancel-grace' | 'lease';

export function failedResult(code: OperationErrorCode, title: string, detail: string): EngineResult {
  return { status: 'failed', summary: null, outputs: null, error: { code, title, detail } };
}

export function cancelledBeforeStartResult(): EngineResult {
  return {
    status: 'cancelled',
    summary: null,
    outputs: null,
    error: { code: 'cancelled', title: 'The operation was cancelled', detail: 'It was cancelled before the engine started; nothing ran.' },
  };
}

/** Only the error's first line, cut short: the raw error may carry CLI output. */
export function crashedResult(err: unknown): EngineResult {
  return failedResult(
    'engine-crashed',
    'The engine crashed',
    err instanceof Error ? err.message.split('\n')[0]!.slice(0, 300) : 'unknown error',
  );
}

export function killedResult(reason: KillReason, graceMs: number): EngineResult {
  const why =
    reason === 'lease'
      ? 'The worker could not renew its hold on the cluster, so it killed the engine before another worker could take over.'
      : `It did not stop within ${graceMs} ms of the cancel request, so its processes were killed.`;
  return {
    status: 'cancelled',
    summary: null,
    outputs: null,
    error: {
      code: 'engine-killed',
      title: 'The engine was killed',
      detail: `${why} Resources being changed at that moment may be in an unknown state; the next run on this cluster recovers the stack first.`,
    },
  };
}

/** `code` and `sig` both null: the child never started. */
export function diedResult(code: number | null, sig: NodeJS.Signals | null): EngineResult {
  return {
    status: 'failed',
    summary: null,
    outputs: null,
    error: {
      code: 'worker-child-died',
      title: 'The engine process died',
      detail:
        code === null && sig === null
          ? 'The child process for the operation could not be started.'
          : `The child process running the operation exited ${sig ? `on ${sig}` : `with code ${code}`} before reporting a result.`,
    },
  };
}
