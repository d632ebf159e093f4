import { assertNever } from './assert-never.js';

/**
 * Every code an operation's error carries, in one list: producing or matching a code outside it is a
 * compile error. The codes are part of the API and of the records (finished operations keep theirs):
 * never rename one.
 */
export const OPERATION_ERROR_CODES = [
  // Pulumi failed; translated from its errors (src/engine/translate-error.ts).
  'stack-locked',
  'stack-not-found',
  'provider-plugin-missing',
  'cloud-credentials-missing',
  'resource-error',
  'engine-error',
  // The operation could not run: nothing was changed.
  'blueprint-unknown',
  'spec-invalid',
  'blueprint-load-failed',
  'spec-unreadable',
  // Guardrails: a person said no, nobody answered in time, the plan changed since it was approved,
  // or a policy pack found a mandatory violation. Nothing was changed.
  'approval-rejected',
  'approval-expired',
  'plan-changed',
  'policy-violation',
  // Stopped on request (a cancel, before or while the engine ran).
  'cancelled',
  // The engine did not finish cleanly: killed, crashed, or its process or worker died.
  'engine-killed',
  'engine-crashed',
  'worker-child-died',
  'worker-died',
] as const;

export type OperationErrorCode = (typeof OPERATION_ERROR_CODES)[number];

/**
 * Whether a run that ended with this code was cut off while the engine ran, so that a stack lock or
 * pending operations may be left behind. Not `stack-locked`: that run took no lock (another holds
 * it, maybe an operator's live CLI, which is never broken).
 */
export function interruptedTheEngine(code: OperationErrorCode): boolean {
  switch (code) {
    case 'engine-killed':
    case 'engine-crashed':
    case 'worker-child-died':
    case 'worker-died':
      return true;
    case 'stack-locked':
    case 'stack-not-found':
    case 'provider-plugin-missing':
    case 'cloud-credentials-missing':
    case 'resource-error':
    case 'engine-error':
    case 'blueprint-unknown':
    case 'spec-invalid':
    case 'blueprint-load-failed':
    case 'spec-unreadable':
    case 'cancelled':
    case 'approval-rejected':
    case 'approval-expired':
    case 'plan-changed':
    case 'policy-violation':
      return false;
    default:
      return assertNever(code, 'operation error code');
  }
}
