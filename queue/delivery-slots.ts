/** Who a delivery competes with for slots: its receiver's origin and the subscription's owner. */
export interface SlotKeys {
  /** Scheme, host and port of the receiver (`URL.origin`). */
  receiver: string;
  /** The subscription's team; null for an admin's all-teams subscription (they share one share). */
  team: string | null;
}

export interface DeliverySlotsOptions {
  /** Deliveries one process sends at once to one receiver origin. @see Config.WEBHOOK_RECEIVER_MAX_IN_FLIGHT */
  maxPerReceiver: number;
  /** Deliveries one process sends at once to one team's subscriptions, whatever their receivers. @see Config.WEBHOOK_TEAM_MAX_IN_FLIGHT */
  maxPerTeam: number;
  /** Clock in ms. @defaultValue Date.now */
  now?: () => number;
}

/** A slot taken (release it when the attempt ends), or how long the fullest share has been busy. */
export type SlotTake = { taken: true; release(): void } | { taken: false; busyForMs: number };

/**
 * Default shares of a process's `WEBHOOK_CONCURRENCY`: a quarter per receiver and half per team
 * (at least one each), so that with the default 4 one receiver holds 1 slot and one team 2.
 */
export function defaultShares(concurrency: number): { maxPerReceiver: number; maxPerTeam: number } {
  return { maxPerReceiver: Math.max(1, Math.ceil(concurrency / 4)), maxPerTeam: Math.max(1, Math.ceil(concurrency / 2)) };
}

/**
 * Caps the deliveries in flight per receiver and per team within one process, so that a receiver
 * that never answers (or a team that registers many such receivers) holds only its share of the
 * worker's slots while every other subscription's deliveries go on. In memory: each process
 * enforces its own shares.
 */
export class DeliverySlots {
  private readonly started = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(private readonly options: DeliverySlotsOptions) {
    for (const key of ['maxPerReceiver', 'maxPerTeam'] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1) throw new Error(`${key} must be an integer of at least 1`);
    }
    this.now = options.now ?? Date.now;
  }

  /** Takes a slot in both shares, or none: `busyForMs` is how long the oldest attempt of a full share has run. */
  take(keys: SlotKeys): SlotTake {
    const shares: Array<[string, number]> = [
      [`receiver ${keys.receiver}`, this.options.maxPerReceiver],
      [`team ${keys.team ?? '*'}`, this.options.maxPerTeam],
    ];
    const now = this.now();
    const full = shares.filter(([key, max]) => (this.started.get(key)?.length ?? 0) >= max);
    if (full.length) {
      const oldest = Math.min(...full.map(([key]) => this.started.get(key)![0]!));
      return { taken: false, busyForMs: Math.max(0, now - oldest) };
    }
    for (const [key] of shares) this.started.set(key, [...(this.started.get(key) ?? []), now]);
    let released = false;
    return {
      taken: true,
      release: () => {
        if (released) return;
        released = true;
        for (const [key] of shares) {
          const times = this.started.get(key)!;
          times.splice(times.indexOf(now), 1);
          if (!times.length) this.started.delete(key);
        }
      },
    };
  }

  /** Deliveries in flight now, per share key (for tests and diagnostics). */
  inFlight(): Record<string, number> {
    return Object.fromEntries([...this.started].map(([key, times]) => [key, times.length]));
  }
}
