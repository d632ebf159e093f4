import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createMetricsApp } from '../../server/metrics.js';
import type { Config } from '../config.js';
import type { Closer } from './close-in-order.js';
import type { SharedParts } from './shared-parts.js';

/**
 * The METRICS_PORT listener: `/metrics`, `/healthz` (alive) and `/readyz` (records and Redis usable,
 * 503 `draining` once the shutdown began). It closes last of the roles' steps, so that a worker
 * draining its operations still answers its liveness probe and is still scraped.
 */
export async function startMetricsListener(
  config: Config & { METRICS_PORT: number },
  log: Logger,
  shared: Pick<SharedParts, 'metrics' | 'store' | 'redis'>,
  draining: () => boolean,
): Promise<{ url: string; closer: Closer }> {
  const app = createMetricsApp({
    metrics: shared.metrics,
    readiness: { recordStore: () => shared.store.ping(), redis: async () => void (await shared.redis.ping()) },
    draining,
  });
  const server = app.listen(config.METRICS_PORT, config.HOST);
  await once(server, 'listening');
  const url = `http://${config.HOST}:${(server.address() as AddressInfo).port}`;
  log.info({ url }, 'metrics listening');
  return {
    url,
    closer: {
      name: 'metrics listener',
      close: async () => {
        const closed = new Promise((resolve) => server.close(resolve));
        // A scrape in flight is a moment's work; nothing here is worth waiting a grace for.
        server.closeAllConnections();
        await closed;
      },
    },
  };
}
