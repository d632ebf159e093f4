import { TooManyRequestsError } from '../src/errors.js';

/** Caps on the event streams one API process holds open. */
export interface StreamSlotLimits {
  /** Streams one token may hold open at once in this process. */
  perToken: number;
  /** Streams this process holds open at once, all tokens together. */
  total: number;
  /** What a refused caller is told to wait (Retry-After), in seconds: slots free up as streams end. @defaultValue 5 */
  retryAfterSeconds?: number;
}

/**
 * Counts open event streams per token and in total, so that one caller cannot take every
 * connection the process can hold. In memory: the caps are per process.
 */
export class StreamSlots {
  private open = 0;
  private readonly byToken = new Map<string, number>();

  constructor(private readonly limits: StreamSlotLimits) {
    if (!(limits.perToken >= 1 && limits.total >= 1)) throw new RangeError('stream limits must be at least 1');
  }

  /** Streams open now, in total. */
  get inUse(): number {
    return this.open;
  }

  /**
   * Takes a slot for `tokenId`, or throws {@link TooManyRequestsError} when a cap is reached.
   * @returns the release function; calling it more than once releases once.
   */
  acquire(tokenId: string): () => void {
    const mine = this.byToken.get(tokenId) ?? 0;
    const retryAfter = this.limits.retryAfterSeconds ?? 5;
    if (mine >= this.limits.perToken)
      throw new TooManyRequestsError(
        `this token already has ${mine} event streams open (at most ${this.limits.perToken}); close one first`,
        retryAfter,
      );
    if (this.open >= this.limits.total)
      throw new TooManyRequestsError(`this server holds its most event streams (${this.limits.total}); try again later`, retryAfter);
    this.byToken.set(tokenId, mine + 1);
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const left = (this.byToken.get(tokenId) ?? 1) - 1;
      if (left > 0) this.byToken.set(tokenId, left);
      else this.byToken.delete(tokenId);
    };
  }
}
