import assert from 'node:assert/strict';
import type { ClusterRecord } from '../../src/domain/cluster.js';
import type { OperationRecord } from '../../src/domain/operation.js';
import type { ClusterStore, DesiredSpec } from '../../src/store/cluster-store.js';

/**
 * Records a new desired spec and its update as a person's PATCH does, with the change decided
 * beforehand (the store's tests have no service): the store's locks, quota and approval gates hold.
 */
export async function changeSpec(
  store: Pick<ClusterStore, 'changeCluster'>,
  clusterId: string,
  update: DesiredSpec,
  requestedBy: string,
): Promise<{ cluster: ClusterRecord; operation: OperationRecord }> {
  const { cluster, operation } = await store.changeCluster(clusterId, () => ({ settings: {}, update }), { requestedBy });
  assert.ok(operation, 'a new spec queues an update');
  return { cluster, operation };
}
