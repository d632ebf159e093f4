import type { Logger } from 'pino';
import type { OperationEvent } from '../domain/operation.js';
import { startPeriodicLoop, type PeriodicLoop } from '../periodic-loop.js';
import { OPERATION_CHANGES_CHANNEL } from '../store/migrations/007-operation-notifications.js';
import { MAX_PROGRESS_IDS } from '../store/operation-progress-store.js';
import type { NotificationListener, Unlisten } from '../store/sql.js';
import { OperationFeed, type FeedReader, type FeedSources } from './operation-feed.js';

/** Settings and dependencies of an {@link OperationFeedHub}. */
export interface OperationFeedHubOptions {
  sources: FeedSources;
  /** Subscribes to the database's notifications (SqlClient.listen). */
  listen(channel: string, listener: NotificationListener): Promise<Unlisten>;
  /**
   * How often every watched operation is looked at again, in one query for all of them, in case
   * a notification was lost (a reconnecting listener). @defaultValue 5000
   */
  recheckMs?: number;
  /** Events kept in memory per operation for streams that are behind. @defaultValue 1000 */
  maxCachedEvents?: number;
  /** Events read from the records per query. @defaultValue 500 */
  batchSize?: number;
  log: Logger;
}

/** A stream's membership of a feed. */
export interface FeedMembership {
  feed: OperationFeed;
  /** Leaves the feed; the last stream to leave drops it. Safe to call twice. */
  leave(): void;
}

/**
 * The one subscription of an API process to operation changes. Streams join the feed of their
 * operation; a notification refreshes that feed once, whatever the number of its streams, and
 * notifications for operations nobody here watches cost nothing. A slow re-check in one query
 * covers notifications lost while the listener reconnects.
 */
export class OperationFeedHub {
  private readonly feeds = new Map<string, OperationFeed>();
  private readonly recheckMs: number;
  private unlisten: Unlisten | null = null;
  private rechecks: PeriodicLoop<void> | null = null;

  constructor(private readonly options: OperationFeedHubOptions) {
    this.recheckMs = options.recheckMs ?? 5_000;
    if (this.recheckMs < 100) throw new RangeError('recheckMs must be at least 100');
  }

  /** Subscribes; the listener connects (and reconnects) in the background if the database is not reachable now. */
  async start(): Promise<void> {
    const { log } = this.options;
    const rechecks = startPeriodicLoop({
      pass: () => this.recheck(),
      intervalMs: this.recheckMs,
      runNow: false,
      unref: true,
      log,
      failureMessage: 'could not re-check the watched operations; trying again later',
    });
    this.rechecks = rechecks;
    try {
      this.unlisten = await this.options.listen(OPERATION_CHANGES_CHANNEL, {
        onNotification: (id) => void this.feeds.get(id)?.refresh(),
        onListening: () => void rechecks.tick(),
        onError: (err) => log.warn({ err: err.message }, 'operation change listener lost its connection; reconnecting'),
      });
    } catch (err) {
      await rechecks.stop();
      throw err;
    }
  }

  /** Stops the re-checks (waiting for one under way) and the subscription. */
  async stop(): Promise<void> {
    await this.rechecks?.stop();
    await this.unlisten?.();
    this.unlisten = null;
  }

  /** Operations with at least one stream in this process. */
  get watched(): number {
    return this.feeds.size;
  }

  join(operationId: string, reader: FeedReader): FeedMembership {
    let feed = this.feeds.get(operationId);
    if (!feed) {
      feed = new OperationFeed(operationId, this.options.sources, {
        maxCached: this.options.maxCachedEvents ?? 1000,
        batchSize: this.options.batchSize ?? 500,
        onError: (err) =>
          this.options.log.warn({ err, operationId }, 'could not read an operation for its event streams; retrying at the next change'),
      });
      this.feeds.set(operationId, feed);
      void feed.refresh();
    }
    feed.readers.add(reader);
    const joined = feed;
    return {
      feed: joined,
      leave: () => {
        joined.readers.delete(reader);
        if (joined.readers.size === 0 && this.feeds.get(operationId) === joined) this.feeds.delete(operationId);
      },
    };
  }

  /** Events from the records, for a stream that is behind what the feed holds in memory. */
  readEvents(operationId: string, afterSeq: number, limit: number): Promise<OperationEvent[]> {
    return this.options.sources.listEvents(operationId, afterSeq, limit);
  }

  /** Looks at every watched operation in one query per thousand, and refreshes the feeds that missed a change. */
  private async recheck(): Promise<void> {
    const ids = [...this.feeds.keys()];
    for (let i = 0; i < ids.length; i += MAX_PROGRESS_IDS) {
      const chunk = ids.slice(i, i + MAX_PROGRESS_IDS);
      const found = new Map((await this.options.sources.progress(chunk)).map((p) => [p.id, p]));
      for (const id of chunk) {
        const feed = this.feeds.get(id);
        if (feed?.differsFrom(found.get(id))) void feed.refresh();
      }
    }
  }
}
