import { changesStack, type ChangeSummary, type OperationKind } from './operation.js';

/** The resource changes of a plan a rule may ask a second pair of eyes for. */
export const PLAN_CHANGES = ['create', 'update', 'replace', 'delete'] as const;
export type PlanChange = (typeof PLAN_CHANGES)[number];

/**
 * Which operations of a team wait for approval (the `approval` section of its policy): those of the
 * listed kinds, and those whose plan has a change of a listed sort anywhere, on clusters carrying
 * every listed label. `approvers` distinct tokens must approve.
 */
export interface ApprovalRule {
  kinds?: OperationKind[];
  changes?: PlanChange[];
  labels?: Record<string, string>;
  /** @defaultValue 1 */
  approvers?: number;
}

/** One person's answer to an operation waiting for approval. */
export interface ApprovalDecision {
  decision: 'approved' | 'rejected';
  /** The token's name (and team). */
  by: string;
  tokenId: string;
  /** Only these roles approve or reject. */
  role: 'admin' | 'approver';
  comment: string | null;
  at: string;
}

/**
 * - `planning`: its plan (a preview) runs when the lane reaches it;
 * - `awaiting`: the plan asks for approval; the operation is `awaiting-approval`;
 * - `approved`: enough approvals came; it runs, constrained to the approved plan;
 * - `not-needed`: the plan asked for nothing the rule names; it ran as any other;
 * - `rejected`, `expired`: it ended `failed` without running.
 */
export type ApprovalState = 'planning' | 'awaiting' | 'approved' | 'not-needed' | 'rejected' | 'expired';

/** One planned resource change, as compared between the approved plan and the plan at apply time. */
export interface PlannedStep {
  urn: string;
  op: PlanChange;
  properties: string[];
}

/** An operation's approval: what asked for it, the plan it is bound to, and the answers so far. */
export interface OperationApproval {
  state: ApprovalState;
  /** The rule in force when the operation was accepted. */
  rule: { kinds: OperationKind[]; changes: PlanChange[] };
  required: number;
  /** Why the plan waits: `kind:destroy`, `change:replace`, ... Empty until planned. */
  reasons: string[];
  /** The planned changes approved, compared with the plan at apply time. Null until planned. */
  plan: PlannedStep[] | null;
  /** When the plan was made and the wait began; null until then. */
  requestedAt: string | null;
  /** When the wait ends unanswered (`expired`); null until planned. */
  expiresAt: string | null;
  decisions: ApprovalDecision[];
}

/**
 * The approval an operation of `kind` on a cluster with `labels` starts with under `rule`, or null
 * when the rule cannot concern it: it only reads the stack, the cluster lacks a listed label, or the
 * rule names neither its kind nor any change.
 */
export function approvalGate(
  rule: ApprovalRule | undefined,
  kind: OperationKind,
  labels: Record<string, string>,
): OperationApproval | null {
  if (!rule || !changesStack(kind)) return null;
  if (Object.entries(rule.labels ?? {}).some(([key, value]) => labels[key] !== value)) return null;
  const kinds = rule.kinds ?? [];
  const changes = rule.changes ?? [];
  if (!kinds.includes(kind) && changes.length === 0) return null;
  return {
    state: 'planning',
    rule: { kinds, changes },
    required: rule.approvers ?? 1,
    reasons: [],
    plan: null,
    requestedAt: null,
    expiresAt: null,
    decisions: [],
  };
}

/** Why an operation with this plan waits for approval; empty when it need not. */
export function approvalReasons(approval: Pick<OperationApproval, 'rule'>, kind: OperationKind, plan: PlannedStep[]): string[] {
  const reasons = approval.rule.kinds.includes(kind) ? [`kind:${kind}`] : [];
  for (const change of approval.rule.changes) if (plan.some((s) => s.op === change)) reasons.push(`change:${change}`);
  return reasons;
}

/** The changes a plan makes, in a stable order: what an approval is bound to. */
export function plannedSteps(summary: ChangeSummary | null): PlannedStep[] {
  const steps: PlannedStep[] = [];
  for (const r of summary?.resources ?? []) {
    if (r.op === 'create' || r.op === 'update' || r.op === 'replace' || r.op === 'delete')
      steps.push({ urn: r.urn, op: r.op, properties: [...r.properties].sort() });
  }
  return steps.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
}

/** How the plan at apply time differs from the approved one, one line per resource; empty when it does not. */
export function planDifferences(approved: PlannedStep[], now: PlannedStep[]): string[] {
  const before = new Map(approved.map((s) => [s.urn, s]));
  const after = new Map(now.map((s) => [s.urn, s]));
  const describe = (s: PlannedStep | undefined) =>
    s ? `${s.op}${s.properties.length ? ` (${s.properties.join(', ')})` : ''}` : 'no change';
  const lines: string[] = [];
  for (const urn of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const a = before.get(urn);
    const b = after.get(urn);
    if (describe(a) !== describe(b)) lines.push(`${urn.split('::').pop() ?? urn}: approved ${describe(a)}, now ${describe(b)}`);
  }
  return lines;
}

/** The approvals given so far. */
export const approvalsGiven = (approval: OperationApproval): number => approval.decisions.filter((d) => d.decision === 'approved').length;

/** What one more answer does to an approval: records it, approves (enough approvals), or rejects (any rejection). */
export function withDecision(
  approval: OperationApproval,
  decision: ApprovalDecision,
): { approval: OperationApproval; outcome: 'recorded' | 'approved' | 'rejected' } | { refusal: string } {
  if (approval.decisions.some((d) => d.tokenId === decision.tokenId))
    return { refusal: 'this token has answered already; another token must give the next answer' };
  const next = { ...approval, decisions: [...approval.decisions, decision] };
  if (decision.decision === 'rejected') return { approval: { ...next, state: 'rejected' }, outcome: 'rejected' };
  if (approvalsGiven(next) >= next.required) return { approval: { ...next, state: 'approved' }, outcome: 'approved' };
  return { approval: next, outcome: 'recorded' };
}
