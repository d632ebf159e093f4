import { TERMINAL_STATUSES, type OperationEvent, type OperationStatus } from '../domain/operation.js';
import type { OperationProgress } from '../store/operation-progress-store.js';

/** An event as a stream writes it: its seq and its Server-Sent Events frame, serialized once for every stream. */
export interface FeedEvent {
  seq: number;
  frame: string;
}

/** The SSE frame of one event: its seq is its id, so that Last-Event-ID resumes right after it. */
export const frameOf = (e: OperationEvent): FeedEvent => ({
  seq: e.seq,
  frame: `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ at: e.at, data: e.data })}\n\n`,
});

/** Where a feed reads from: the records. */
export interface FeedSources {
  progress(ids: readonly string[]): Promise<OperationProgress[]>;
  listEvents(operationId: string, afterSeq: number, limit: number): Promise<OperationEvent[]>;
}

/** A stream's position in a feed: the seq of the last event it wrote. */
export interface FeedReader {
  after: number;
}

/** Limits of one feed. */
export interface OperationFeedOptions {
  /** Most events kept in memory for streams that have not written them yet; a stream further behind reads the records. */
  maxCached: number;
  /** Events read from the records per query. */
  batchSize: number;
  /** Told when a refresh fails; the next notification or re-check tries again. */
  onError(err: unknown): void;
}

/**
 * What one API process knows of one operation, shared by every stream of it: the status, the seq
 * of the last event, and the recent events some stream has not written yet. It is refreshed from
 * the records when the database announces a change (and by the hub's re-check), once per change
 * however many streams watch, and wakes the streams, which write from memory.
 */
export class OperationFeed {
  /** Null until the first refresh has read it. */
  status: OperationStatus | null = null;
  /** Seq of the last event read; the feed knows nothing beyond it. */
  lastSeq = 0;
  /** The operation no longer exists. */
  gone = false;
  readonly readers = new Set<FeedReader>();
  // Holds every event with cacheStart < seq <= lastSeq, in order.
  private cacheStart = 0;
  private cache: FeedEvent[] = [];
  private waiting: { promise: Promise<void>; resolve(): void } | null = null;
  private refreshing: Promise<void> | null = null;
  private again = false;

  constructor(
    readonly id: string,
    private readonly sources: FeedSources,
    private readonly options: OperationFeedOptions,
  ) {}

  /** True once the status read is final: every event written before it is at or below {@link lastSeq}. */
  get finished(): boolean {
    return this.status !== null && TERMINAL_STATUSES.has(this.status);
  }

  /**
   * Events after `after` from memory (at most `limit`), or null when memory does not hold all of
   * them (a stream resuming from further back, or the feed not read yet): read the records then.
   */
  recent(after: number, limit: number): FeedEvent[] | null {
    if (this.status === null || after < this.cacheStart) return null;
    let lo = 0;
    let hi = this.cache.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cache[mid]!.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.cache.slice(lo, lo + limit);
  }

  /** Settles at the next change (new events, a new status, the operation gone). Ask before looking, so that nothing in between is missed. */
  nextChange(): Promise<void> {
    if (!this.waiting) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiting = { promise, resolve };
    }
    return this.waiting.promise;
  }

  /** Reads what changed; concurrent calls share one read, and a call during a read causes one more. Never rejects. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false;
          await this.readOnce();
        } while (this.again);
      } catch (err) {
        this.options.onError(err);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** True when `p` says something this feed does not know yet. */
  differsFrom(p: OperationProgress | undefined): boolean {
    return !p || p.status !== this.status || p.lastSeq > this.lastSeq;
  }

  private async readOnce(): Promise<void> {
    const [progress] = await this.sources.progress([this.id]);
    if (!progress) {
      this.gone = true;
      return this.signal();
    }
    if (this.status === null) {
      // Streams joining now replay from the records up to here; the feed carries on from it.
      this.lastSeq = this.cacheStart = progress.lastSeq;
    } else {
      this.trim();
      while (this.lastSeq < progress.lastSeq) {
        const batch = await this.sources.listEvents(this.id, this.lastSeq, this.options.batchSize);
        // Removed meanwhile (retention): nothing more to read.
        if (batch.length === 0) break;
        this.append(batch.map(frameOf));
      }
    }
    this.status = progress.status;
    this.signal();
  }

  private append(events: FeedEvent[]): void {
    this.cache.push(...events);
    this.lastSeq = events.at(-1)!.seq;
    const excess = this.cache.length - this.options.maxCached;
    if (excess > 0) this.cacheStart = this.cache.splice(0, excess).at(-1)!.seq;
  }

  /** Forgets events every stream has written. */
  private trim(): void {
    let min = this.lastSeq;
    for (const r of this.readers) if (r.after < min) min = r.after;
    if (min <= this.cacheStart) return;
    const keep = this.cache.findIndex((e) => e.seq > min);
    this.cache = keep === -1 ? [] : this.cache.slice(keep);
    this.cacheStart = min;
  }

  private signal(): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve();
  }
}
