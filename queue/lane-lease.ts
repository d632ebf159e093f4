import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { LaneHold, LaneStore } from '../src/store/lane-store.js';

/** Options of {@link keepLane}. */
export interface LaneLeaseOptions {
  /** Length of the lease the store grants on each renewal. Milliseconds. @see Config.WORKER_LANE_LEASE_MS */
  leaseMs: number;
  log: Logger;
  /** Monotonic clock in milliseconds. @defaultValue performance.now */
  now?: () => number;
}

/** A lane hold kept alive from the moment it is taken until it is let go. */
export interface LaneLease {
  readonly hold: LaneHold;
  /**
   * Aborted when the holder must stop: a renewal was refused (the lane was taken over), or none has
   * been confirmed for half the lease (the store is unreachable or paused). The engine must then be
   * stopped gracefully, and nothing more written. Never un-aborted.
   */
  readonly atRisk: AbortSignal;
  /** Aborted at the last moment the engine may still run: it must be killed now, before the lease can lapse. */
  readonly mustBeDead: AbortSignal;
  /**
   * Milliseconds until `mustBeDead` fires unless a renewal is confirmed meanwhile; 0 once it has. Whoever
   * runs the engine on this holder's behalf and may outlive it (the job's child process) must have
   * stopped by then.
   */
  msUntilKill(): number;
  /** Stops renewing (before the hold is released, or once the holder has stopped). */
  stop(): void;
}

/**
 * Renews a lane hold every sixth of the lease for as long as the holder works, between operations
 * included, and fences the holder itself when it cannot renew.
 *
 * The lease is measured on this process's monotonic clock from the moment the last renewal that
 * succeeded was *sent*: the database set the lease to end `leaseMs` after it ran that statement, which
 * was later, so the lease cannot lapse before `confirmedAt + leaseMs`. No clocks are compared across
 * machines. Without a confirmed renewal for half the lease, `atRisk` fires (graceful stop); at
 * `confirmedAt + leaseMs - margin`, `mustBeDead` fires (kill), leaving the margin for the kill itself.
 * At most one renewal is in flight: a hung one (a paused database) is not joined by more, so that a
 * backlog cannot extend the lease of a holder that has stopped once the database answers again.
 */
export function keepLane(store: Pick<LaneStore, 'renew'>, hold: LaneHold, opts: LaneLeaseOptions): LaneLease {
  const now = opts.now ?? (() => performance.now());
  const { leaseMs, log } = opts;
  // Often enough that one slow round trip to a loaded store does not by itself put the lease at risk.
  const renewEveryMs = Math.floor(leaseMs / 6);
  const retryMs = Math.max(50, Math.floor(leaseMs / 10));
  const marginMs = Math.min(Math.max(1000, Math.floor(leaseMs / 10)), Math.floor(leaseMs / 3));
  const atRisk = new AbortController();
  const mustBeDead = new AbortController();
  // The hold was granted just before this call: the acquire statement ran no earlier than now.
  let confirmedAt = now();
  let stopped = false;
  let wake: NodeJS.Timeout | undefined;

  const fence = (reason: string) => {
    if (!atRisk.signal.aborted) {
      log.error({ clusterId: hold.clusterId, owner: hold.owner, epoch: hold.epoch, reason }, 'lane lease at risk; stopping the holder');
      atRisk.abort(reason);
    }
  };
  const watchdog = setInterval(
    () => {
      const held = now() - confirmedAt;
      if (held >= leaseMs / 2) fence(`no renewal confirmed for ${Math.round(held)} ms of a ${leaseMs} ms lease`);
      if (held >= leaseMs - marginMs && !mustBeDead.signal.aborted) mustBeDead.abort('lease about to lapse');
    },
    Math.max(20, Math.min(250, Math.floor(leaseMs / 20))),
  );

  const renew = async (): Promise<void> => {
    if (stopped || atRisk.signal.aborted) return;
    const sentAt = now();
    let delay = renewEveryMs;
    try {
      const renewed = await store.renew(hold, leaseMs);
      // Sent before the holder stopped and answered after it let the lane go: there is nothing left to fence.
      if (stopped) return;
      if (renewed) confirmedAt = Math.max(confirmedAt, sentAt);
      else {
        fence('the lane was taken over');
        mustBeDead.abort('the lane was taken over');
        return;
      }
    } catch (err) {
      if (stopped) return;
      log.warn({ err, clusterId: hold.clusterId }, 'lane renewal failed; retrying');
      delay = retryMs;
    }
    // Spaced from when the renewal was sent, not when it was answered: a slow answer does not also delay the next one.
    if (!stopped && !atRisk.signal.aborted) wake = setTimeout(() => void renew(), Math.max(0, sentAt + delay - now()));
  };
  wake = setTimeout(() => void renew(), renewEveryMs);

  return {
    hold,
    atRisk: atRisk.signal,
    mustBeDead: mustBeDead.signal,
    msUntilKill: () => (mustBeDead.signal.aborted ? 0 : Math.max(0, Math.floor(confirmedAt + leaseMs - marginMs - now()))),
    stop() {
      stopped = true;
      clearTimeout(wake);
      clearInterval(watchdog);
    },
  };
}
