/** A granted slot; calling it more than once releases once. */
export type ReleaseSlot = () => void;

interface Waiter {
  grant(): void;
}

/**
 * At most `size` holders at once. Waiters queue per key (a team), and a freed slot goes to the
 * keys in turn, so that one key with many waiters cannot keep another's single waiter waiting
 * behind all of them.
 */
export class FairSlots {
  private used = 0;
  // Map order is the turn order: a served key with waiters left moves to the back.
  private readonly queues = new Map<string, Waiter[]>();

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a whole number of at least 1');
  }

  /** Slots held now. */
  get inUse(): number {
    return this.used;
  }

  /** Waiters in every queue. */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Resolves with a release function once a slot is free; rejects with the signal's reason if it aborts first. */
  acquire(key: string, signal?: AbortSignal): Promise<ReleaseSlot> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const queue = this.queues.get(key);
        const at = queue?.indexOf(waiter) ?? -1;
        if (at >= 0) queue!.splice(at, 1);
        if (queue?.length === 0) this.queues.delete(key);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const queue = this.queues.get(key);
      if (queue) queue.push(waiter);
      else this.queues.set(key, [waiter]);
    });
  }

  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.nextWaiter();
      // The slot passes straight to the next waiter, so `used` stays the same.
      if (next) next.grant();
      else this.used--;
    };
  }

  private nextWaiter(): Waiter | undefined {
    for (const [key, queue] of this.queues) {
      const waiter = queue.shift();
      this.queues.delete(key);
      if (queue.length) this.queues.set(key, queue);
      if (waiter) return waiter;
    }
    return undefined;
  }
}
