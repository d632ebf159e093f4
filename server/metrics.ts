import { Router, type RequestHandler } from 'express';
import type { ServiceMetrics } from '../src/metrics/service-metrics.js';
import { healthRouter, type Check } from './routes/meta.js';
import { routeOf } from './request-log.js';
import express from 'express';

export type MetricsEndpoint = Pick<ServiceMetrics, 'contentType' | 'text' | 'request'>;

/** Counts every answer by its route pattern, status and duration, when the answer is done (or cut). */
export function countRequests(metrics: Pick<ServiceMetrics, 'request'>): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('close', () => metrics.request(req.method, routeOf(req, res), res.statusCode, performance.now() - started));
    next();
  };
}

/** `GET /metrics` in the Prometheus text format; no token (it names no team, cluster or token). */
export function metricsRouter(metrics: MetricsEndpoint): Router {
  const router = Router();
  router.get('/metrics', async (_req, res, next) => {
    try {
      const text = await metrics.text();
      res.set({ 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }).send(text);
    } catch (err) {
      next(err);
    }
  });
  return router;
}

/** The app of the METRICS_PORT listener: `/metrics`, `/healthz` and `/readyz`, nothing else. */
export function createMetricsApp(deps: { metrics: MetricsEndpoint; readiness: Record<string, Check>; draining: () => boolean }) {
  const app = express();
  app.disable('x-powered-by');
  app.use(healthRouter(deps.readiness, deps.draining));
  app.use(metricsRouter(deps.metrics));
  app.use((_req, res) => void res.status(404).type('text/plain').send('not found\n'));
  return app;
}
