/**
 * Carries out the planned attacks on time: worker kills (each noting first which clusters' running
 * operations the victim held, so that their recovery can be timed), one Redis death and restart on
 * its AOF, one PostgreSQL fast restart.
 */
import type pg from 'pg';
import type { Attack } from './plan.js';
import type { ChaosService } from './service.js';

/** One worker kill, and what the victim was running. */
export interface KillRecord {
  /** Milliseconds since the epoch. */
  at: number;
  slot: number;
  pid: number;
  /** Operations running on lanes the victim held, or null when the records could not say (they were down). */
  held: Array<{ cluster: string; operationId: string }> | null;
}

/** An outage of Redis or PostgreSQL. Milliseconds since the epoch. */
export interface Outage {
  downAt: number;
  upAt: number;
}

export interface AttackLog {
  kills: KillRecord[];
  /** Planned kills left out because fewer than two workers were ready (one must be there to take over). */
  missedKills: number;
  redis: Outage | null;
  postgres: Outage | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Running operations on lanes held by the worker process `pid` (its lane owners read `<host>:<pid>:<id>/...`). */
async function heldBy(records: pg.Pool, pid: number): Promise<KillRecord['held']> {
  try {
    const { rows } = await records.query<{ name: string; id: string }>(
      `SELECT c.name, o.id FROM clusters c JOIN operations o ON o.cluster_id = c.id AND o.status = 'running'
       WHERE c.lane_owner LIKE $1 AND c.lane_expires_at > now()`,
      [`%:${pid}:%`],
    );
    return rows.map((r) => ({ cluster: r.name, operationId: r.id }));
  } catch {
    return null;
  }
}

export const emptyAttackLog = (): AttackLog => ({ kills: [], missedKills: 0, redis: null, postgres: null });

/** Runs `attacks` (offsets from `t0`) against `service`, noting them in `log` as they happen; resolves after the last one, restarts included. */
export async function runAttacks(
  attacks: readonly Attack[],
  service: ChaosService,
  records: pg.Pool,
  t0: number,
  redisSignal: 'SIGTERM' | 'SIGKILL',
  log: AttackLog,
): Promise<AttackLog> {
  const restarts: Promise<void>[] = [];
  for (const attack of attacks) {
    await sleep(t0 + attack.atMs - Date.now());
    switch (attack.type) {
      case 'kill-worker': {
        // A worker still starting holds nothing yet, and a kill that leaves nobody to take over tests nothing.
        const ready = service.workers.readySlots();
        const slot = ready[Math.floor(attack.pick * ready.length)];
        const pid = slot === undefined ? null : service.workers.pid(slot);
        if (slot === undefined || pid === null || ready.length < Math.min(2, service.workers.size)) {
          log.missedKills++;
          break;
        }
        const held = await heldBy(records, pid);
        const at = Date.now();
        await service.workers.kill(slot);
        log.kills.push({ at, slot, pid, held });
        restarts.push(sleep(attack.restartAfterMs).then(() => service.workers.start(slot)));
        break;
      }
      case 'restart-redis': {
        const downAt = Date.now();
        await service.redis.kill(redisSignal);
        await sleep(attack.downMs);
        await service.redis.start();
        log.redis = { downAt, upAt: Date.now() };
        break;
      }
      case 'restart-postgres': {
        const downAt = Date.now();
        await service.postgres.restart();
        log.postgres = { downAt, upAt: Date.now() };
        break;
      }
      default:
        attack satisfies never;
    }
  }
  await Promise.all(restarts);
  return log;
}
