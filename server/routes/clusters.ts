import { Router, type Response } from 'express';
import type { z } from 'zod';
import { writeOnlyFields } from '../../src/blueprints/write-only.js';
import type { ClusterRecord } from '../../src/domain/cluster.js';
import type { Accepted, ClusterService } from '../../src/lifecycle/cluster-service.js';
import type { OperationService } from '../../src/lifecycle/operation-service.js';
import type { BlueprintLookup } from '../../src/ports.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { clusterNameParam, createClusterBody, kubeconfigReadsQuery, labelsOf, listClustersQuery, listOperationsQuery, updateClusterBody } from '../../src/lifecycle/requests.js';
import { principalOf } from '../auth.js';
import type { kubeconfigReadsSchema } from '../response-schemas.js';
import { clusterView, operationView } from '../views.js';

/** /v1/clusters: create, list, read, change, destroy, and queue inspections. */
export function clustersRouter(deps: { clusters: ClusterService; operations: OperationService; blueprints: BlueprintLookup }): Router {
  const { clusters, operations } = deps;
  const view = (c: ClusterRecord) => {
    const blueprint = deps.blueprints.get(c.blueprint);
    return clusterView(c, blueprint ? writeOnlyFields(blueprint) : []);
  };
  const accepted = (res: Response, a: Accepted) =>
    res.status(202).location(`/v1/operations/${a.operation.id}`).json({ cluster: view(a.cluster), operation: operationView(a.operation) });
  const router = Router();
  const nameOf = (params: unknown) => parseOrThrow(clusterNameParam, params, '', 'path').name;

  router.post('/', async (req, res) => {
    accepted(res, await clusters.create(principalOf(req), parseOrThrow(createClusterBody, req.body)));
  });

  router.get('/', async (req, res) => {
    const q = parseOrThrow(listClustersQuery, req.query, 'query', 'query');
    const page = await clusters.list(principalOf(req), {
      team: q.team, blueprint: q.blueprint, status: q.status, limit: q.limit, cursor: q.cursor, labels: labelsOf(q.label),
    });
    res.json({ items: page.items.map(view), nextCursor: page.nextCursor });
  });

  router.get('/:name', async (req, res) => {
    res.json(view(await clusters.get(principalOf(req), nameOf(req.params))));
  });

  router.patch('/:name', async (req, res) => {
    const changed = await clusters.update(principalOf(req), nameOf(req.params), parseOrThrow(updateClusterBody, req.body));
    // Settings alone (drift policy, expiry) need no operation: done at once.
    if (changed.operation) accepted(res, { cluster: changed.cluster, operation: changed.operation });
    else res.status(200).json({ cluster: view(changed.cluster), operation: null });
  });

  // Admin credentials: app.ts marks every answer of this route no-store.
  router.get('/:name/kubeconfig', async (req, res) => {
    const { kubeconfig } = await clusters.kubeconfig(principalOf(req), nameOf(req.params));
    res.json({ kubeconfig });
  });

  router.get('/:name/kubeconfig/reads', async (req, res) => {
    const q = parseOrThrow(kubeconfigReadsQuery, req.query, 'query', 'query');
    res.json({ items: await clusters.kubeconfigReads(principalOf(req), nameOf(req.params), q.limit) } satisfies z.output<typeof kubeconfigReadsSchema>);
  });

  router.post('/:name/remediate', async (req, res) => {
    accepted(res, await clusters.remediate(principalOf(req), nameOf(req.params)));
  });

  router.delete('/:name', async (req, res) => {
    accepted(res, await clusters.destroy(principalOf(req), nameOf(req.params)));
  });

  for (const kind of ['preview', 'refresh', 'drift-check'] as const) {
    router.post(`/:name/${kind}`, async (req, res) => {
      accepted(res, await clusters.inspect(principalOf(req), nameOf(req.params), kind));
    });
  }

  router.get('/:name/operations', async (req, res) => {
    const q = parseOrThrow(listOperationsQuery, req.query, 'query', 'query');
    const page = await operations.listForCluster(principalOf(req), nameOf(req.params), q.limit, q.cursor);
    res.json({ items: page.items.map(operationView), nextCursor: page.nextCursor });
  });

  return router;
}
