import { Router, type Response } from 'express';
import { writeOnlyFields } from '../../src/blueprints/write-only.js';
import type { ClusterRecord } from '../../src/domain/cluster.js';
import type { Accepted, ClusterService } from '../../src/lifecycle/cluster-service.js';
import type { OperationService } from '../../src/lifecycle/operation-service.js';
import type { BlueprintLookup } from '../../src/ports.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { createClusterBody, updateClusterBody } from '../../src/lifecycle/requests.js';
import { assertMayReadSecrets } from '../../src/auth/permissions.js';
import { principalOf } from '../auth.js';
import { clusterSupport } from '../../src/versions/cluster-support.js';
import type { MaintenanceService } from '../../src/maintenance/maintenance-service.js';
import { kubeconfigReadsQuery, labelsOf, listClustersQuery, listOperationsQuery, queueOperationQuery } from '../schemas/list-queries.js';
import { clusterNameParam } from '../schemas/path-params.js';
import {
  acceptedView,
  clusterPageView,
  clusterView,
  kubeconfigReadsView,
  kubeconfigView,
  maintenanceWindowView,
  operationPageView,
  settingsChangedView,
} from '../views.js';

/** /v1/clusters: create, list, read, change, destroy, and queue inspections. */
export function clustersRouter(deps: {
  clusters: ClusterService;
  operations: OperationService;
  maintenance: MaintenanceService;
  blueprints: BlueprintLookup;
  /** The database's clock, ms: support statuses are worked out by it. */
  now: () => Promise<number>;
}): Router {
  const { clusters, operations } = deps;
  /** A cluster as answered, with its version's support status at `now`. */
  const view = (c: ClusterRecord, now: number) => {
    const blueprint = deps.blueprints.get(c.blueprint);
    return clusterView(c, blueprint ? writeOnlyFields(blueprint) : [], clusterSupport(blueprint, c, now));
  };
  const accepted = async (res: Response, a: Accepted) => {
    const cluster = view(a.cluster, await deps.now());
    res
      .status(202)
      .location(`/v1/operations/${a.operation.id}`)
      .json(acceptedView(cluster, a.operation, a.notices));
  };
  const router = Router();
  const nameOf = (params: unknown) => parseOrThrow(clusterNameParam, params, '', 'path').name;
  const queueOptions = (query: unknown) => ({
    respectMaintenance: parseOrThrow(queueOperationQuery, query, 'query', 'query').respectMaintenance === 'true',
  });

  router.post('/', async (req, res) => {
    await accepted(res, await clusters.create(principalOf(req), parseOrThrow(createClusterBody, req.body)));
  });

  router.get('/', async (req, res) => {
    const q = parseOrThrow(listClustersQuery, req.query, 'query', 'query');
    const page = await clusters.list(principalOf(req), {
      team: q.team,
      blueprint: q.blueprint,
      status: q.status,
      limit: q.limit,
      cursor: q.cursor,
      labels: labelsOf(q.label),
    });
    const now = await deps.now();
    res.json(clusterPageView(page, (c) => view(c, now)));
  });

  router.get('/:name', async (req, res) => {
    const cluster = await clusters.get(principalOf(req), nameOf(req.params));
    const [now, window] = await Promise.all([deps.now(), deps.maintenance.windowOf(cluster)]);
    res.json({ ...view(cluster, now), maintenanceWindow: maintenanceWindowView(window) });
  });

  router.patch('/:name', async (req, res) => {
    const changed = await clusters.update(principalOf(req), nameOf(req.params), parseOrThrow(updateClusterBody, req.body));
    // Settings alone (drift policy, expiry) need no operation: done at once.
    if (changed.operation) await accepted(res, { cluster: changed.cluster, operation: changed.operation });
    else res.status(200).json(settingsChangedView(view(changed.cluster, await deps.now())));
  });

  // Admin credentials: app.ts marks every answer of this route no-store.
  router.get('/:name/kubeconfig', async (req, res) => {
    assertMayReadSecrets(principalOf(req));
    const { kubeconfig } = await clusters.kubeconfig(principalOf(req), nameOf(req.params));
    res.json(kubeconfigView(kubeconfig));
  });

  router.get('/:name/kubeconfig/reads', async (req, res) => {
    const q = parseOrThrow(kubeconfigReadsQuery, req.query, 'query', 'query');
    res.json(kubeconfigReadsView(await clusters.kubeconfigReads(principalOf(req), nameOf(req.params), q.limit)));
  });

  router.post('/:name/remediate', async (req, res) => {
    await accepted(res, await clusters.remediate(principalOf(req), nameOf(req.params), queueOptions(req.query)));
  });

  router.delete('/:name', async (req, res) => {
    await accepted(res, await clusters.destroy(principalOf(req), nameOf(req.params), queueOptions(req.query)));
  });

  for (const kind of ['preview', 'refresh', 'drift-check'] as const) {
    router.post(`/:name/${kind}`, async (req, res) => {
      await accepted(res, await clusters.inspect(principalOf(req), nameOf(req.params), kind, queueOptions(req.query)));
    });
  }

  router.get('/:name/operations', async (req, res) => {
    const q = parseOrThrow(listOperationsQuery, req.query, 'query', 'query');
    const page = await operations.listForCluster(principalOf(req), nameOf(req.params), q.limit, q.cursor);
    res.json(operationPageView(page));
  });

  return router;
}
