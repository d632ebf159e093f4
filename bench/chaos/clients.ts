/**
 * The clients of a chaos run: send the planned requests on time, at most `clients` in flight, and
 * behave as careful clients do through outages: a request with an Idempotency-Key is retried until
 * it is answered (5xx, network errors and "still being handled" 409s are retried); one without a key
 * is never retried, since a retry could make a second operation.
 */
import { randomUUID } from 'node:crypto';
import type { Step, StepKind } from './plan.js';

/** How long a request with an Idempotency-Key is retried before the client gives up. Milliseconds. */
const RETRY_FOR_MS = 180_000;
/** How long one HTTP request may take. Milliseconds. */
const REQUEST_TIMEOUT_MS = 30_000;

/** One HTTP exchange (one try). */
export interface Exchange {
  step: number;
  kind: StepKind;
  cluster: string;
  key: string | null;
  /** 0 when no answer came (connection refused or reset, timeout). */
  status: number;
  /** The operation a 202 accepted (not set for a cancel: it names an existing operation). */
  operationId: string | null;
  replayed: boolean;
  /** Milliseconds since the epoch. */
  at: number;
  ms: number;
  /** The problem's detail, or the network error. */
  detail: string | null;
}

export interface LoadResult {
  exchanges: Exchange[];
  /** Operation ids from every 202 that accepted one, with the step that asked. */
  accepted: Map<string, { step: number; kind: StepKind; cluster: string }>;
  /** Operation ids answered (202) under each Idempotency-Key. */
  operationsByKey: Map<string, Set<string>>;
  /** Steps whose final answer was a 5xx or none: without a key (not retried) or after retrying for RETRY_FOR_MS. */
  unanswered: Array<{ step: number; kind: StepKind; key: boolean; last: number }>;
  /** Steps not sent: their cluster's provision (in the same batch) was never accepted, or a cancel found nothing to cancel. */
  skipped: number;
  /** Clusters whose provision was accepted. */
  provisioned: Set<string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Limits how many tasks run at once. */
function semaphore(size: number) {
  let free = size;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

const retryable = (e: Exchange) => e.status === 0 || e.status >= 500 || (e.status === 409 && /still being handled/.test(e.detail ?? ''));

/** Sends the steps of the plan against the API at `url`; resolves when every one is answered or given up. */
export async function runLoad(steps: readonly Step[], opts: { url: string; token: string; clients: number }): Promise<LoadResult> {
  const result: LoadResult = {
    exchanges: [],
    accepted: new Map(),
    operationsByKey: new Map(),
    unanswered: [],
    skipped: 0,
    provisioned: new Set(),
  };
  const latest = new Map<string, string>();
  const provisions = new Map<string, { promise: Promise<boolean>; resolve(ok: boolean): void }>();
  for (const s of steps) {
    if (s.kind !== 'provision') continue;
    let resolve!: (ok: boolean) => void;
    provisions.set(s.cluster, { promise: new Promise<boolean>((r) => (resolve = r)), resolve });
  }
  const limit = semaphore(opts.clients);

  async function send(step: Step, path: string, key: string | null): Promise<Exchange> {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.token}` };
    if (step.body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    const at = Date.now();
    const t0 = performance.now();
    const exchange: Exchange = {
      step: step.index,
      kind: step.kind,
      cluster: step.cluster,
      key,
      status: 0,
      operationId: null,
      replayed: false,
      at,
      ms: 0,
      detail: null,
    };
    try {
      const res = await fetch(opts.url + path, {
        method: step.method,
        headers,
        body: step.body === undefined ? undefined : JSON.stringify(step.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      let body: any = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      exchange.status = res.status;
      exchange.replayed = res.headers.get('idempotent-replayed') === 'true';
      if (res.status === 202 && step.kind !== 'cancel') exchange.operationId = body?.operation?.id ?? null;
      if (res.status >= 400) exchange.detail = typeof body?.detail === 'string' ? body.detail : text.slice(0, 200);
    } catch (err) {
      exchange.detail = (err as Error).message;
    }
    exchange.ms = performance.now() - t0;
    result.exchanges.push(exchange);
    if (exchange.operationId) {
      if (!result.accepted.has(exchange.operationId))
        result.accepted.set(exchange.operationId, { step: step.index, kind: step.kind, cluster: step.cluster });
      latest.set(step.cluster, exchange.operationId);
      if (key) result.operationsByKey.set(key, new Set([...(result.operationsByKey.get(key) ?? []), exchange.operationId]));
    }
    return exchange;
  }

  /** One request as a client sends it: once without a key, until answered with one. */
  async function exchange(step: Step, path: string, key: string | null): Promise<Exchange> {
    const until = Date.now() + RETRY_FOR_MS;
    for (let attempt = 0; ; attempt++) {
      const answer = await limit(() => send(step, path, key));
      if (!key || !retryable(answer) || Date.now() > until) return answer;
      await sleep(Math.min(4000, 250 * 2 ** attempt));
    }
  }

  async function run(step: Step): Promise<void> {
    // A cluster provisioned by this batch must be accepted first; others are sent as they are.
    const provision = step.kind === 'provision' ? undefined : provisions.get(step.cluster);
    if (provision && !(await provision.promise)) {
      result.skipped++;
      return;
    }
    const path = step.path === 'cancel' ? latest.get(step.cluster) && `/v1/operations/${latest.get(step.cluster)}/cancel` : step.path;
    if (!path) {
      result.skipped++;
      return;
    }
    const key = step.idempotency === 'none' ? null : `chaos-${step.index}-${randomUUID()}`;
    const answers =
      step.idempotency === 'twice-concurrent'
        ? await Promise.all([exchange(step, path, key), exchange(step, path, key)])
        : [await exchange(step, path, key)];
    if (step.idempotency === 'twice-sequential') answers.push(await exchange(step, path, key));
    const last = answers.at(-1)!;
    if (retryable(last) && last.status !== 409)
      result.unanswered.push({ step: step.index, kind: step.kind, key: key !== null, last: last.status });
    if (step.kind === 'provision') {
      const ok = answers.some((a) => a.status === 202);
      if (ok) result.provisioned.add(step.cluster);
      provisions.get(step.cluster)?.resolve(ok);
    }
  }

  const t0 = Date.now();
  const running: Promise<void>[] = [];
  for (const step of steps) {
    await sleep(t0 + step.atMs - Date.now());
    running.push(run(step));
  }
  await Promise.all(running);
  return result;
}
