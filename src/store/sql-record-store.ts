import type { ClusterStore } from './cluster-store.js';
import type { ExpiryStore } from './expiry-store.js';
import type { IdempotencyStore } from './idempotency-store.js';
import type { KubeconfigReadStore } from './kubeconfig-read-store.js';
import { migrate } from './migrations.js';
import type { OperationStore } from './operation-store.js';
import type { RecordStore } from './record-store.js';
import { SqlClusterStore } from './sql-cluster-store.js';
import { SqlExpiryStore } from './sql-expiry-store.js';
import { SqlIdempotencyStore } from './sql-idempotency-store.js';
import { SqlKubeconfigReadStore } from './sql-kubeconfig-read-store.js';
import { SqlOperationStore } from './sql-operation-store.js';
import { SqlTokenStore } from './sql-token-store.js';
import type { SqlClient } from './sql.js';
import type { TokenStore } from './token-store.js';

/**
 * {@link RecordStore} over PostgreSQL or PGlite: the narrow SQL stores of one database behind one
 * object, each method handed to the store of its aggregate. Every method is one statement or one
 * transaction; times that matter across processes (leases, staleness) come from the database clock.
 */
export class SqlRecordStore implements RecordStore {
  private readonly clusters: ClusterStore;
  private readonly operations: OperationStore;
  private readonly kubeconfigReads: KubeconfigReadStore;
  private readonly tokens: TokenStore;
  private readonly idempotency: IdempotencyStore;
  private readonly expiry: ExpiryStore;

  constructor(private readonly db: SqlClient) {
    this.clusters = new SqlClusterStore(db);
    this.operations = new SqlOperationStore(db);
    this.kubeconfigReads = new SqlKubeconfigReadStore(db);
    this.tokens = new SqlTokenStore(db);
    this.idempotency = new SqlIdempotencyStore(db);
    this.expiry = new SqlExpiryStore(db);
  }

  async migrate(): Promise<void> {
    await migrate(this.db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  readonly createCluster: ClusterStore['createCluster'] = (draft, op, admit) => this.clusters.createCluster(draft, op, admit);
  readonly getCluster: ClusterStore['getCluster'] = (name) => this.clusters.getCluster(name);
  readonly getClusterById: ClusterStore['getClusterById'] = (id) => this.clusters.getClusterById(id);
  readonly listClusters: ClusterStore['listClusters'] = (filter) => this.clusters.listClusters(filter);
  readonly changeCluster: ClusterStore['changeCluster'] = (clusterId, decide, op) => this.clusters.changeCluster(clusterId, decide, op);
  readonly enqueueOperation: ClusterStore['enqueueOperation'] = (clusterId, op, check) =>
    this.clusters.enqueueOperation(clusterId, op, check);

  readonly getOperation: OperationStore['getOperation'] = (id) => this.operations.getOperation(id);
  readonly listOperations: OperationStore['listOperations'] = (clusterId, limit, cursor) =>
    this.operations.listOperations(clusterId, limit, cursor);
  readonly pendingOperations: OperationStore['pendingOperations'] = (clusterId) => this.operations.pendingOperations(clusterId);
  readonly requestCancel: OperationStore['requestCancel'] = (id, options) => this.operations.requestCancel(id, options);
  readonly clustersNeedingWork: OperationStore['clustersNeedingWork'] = () => this.operations.clustersNeedingWork();
  readonly listEvents: OperationStore['listEvents'] = (operationId, afterSeq, limit) =>
    this.operations.listEvents(operationId, afterSeq, limit);

  readonly recordKubeconfigRead: KubeconfigReadStore['recordKubeconfigRead'] = (clusterId, readBy) =>
    this.kubeconfigReads.recordKubeconfigRead(clusterId, readBy);
  readonly listKubeconfigReads: KubeconfigReadStore['listKubeconfigReads'] = (clusterId, limit) =>
    this.kubeconfigReads.listKubeconfigReads(clusterId, limit);

  readonly createToken: TokenStore['createToken'] = (token) => this.tokens.createToken(token);
  readonly findTokenByHash: TokenStore['findTokenByHash'] = (hash) => this.tokens.findTokenByHash(hash);
  readonly countTokens: TokenStore['countTokens'] = () => this.tokens.countTokens();
  readonly getToken: TokenStore['getToken'] = (id) => this.tokens.getToken(id);
  readonly listTokens: TokenStore['listTokens'] = (filter) => this.tokens.listTokens(filter);
  readonly revokeToken: TokenStore['revokeToken'] = (id, revokedByTokenId) => this.tokens.revokeToken(id, revokedByTokenId);
  readonly countActiveAdminTokens: TokenStore['countActiveAdminTokens'] = () => this.tokens.countActiveAdminTokens();

  readonly claimIdempotencyKey: IdempotencyStore['claimIdempotencyKey'] = (principalId, key, fingerprint, staleMs, ttlMs) =>
    this.idempotency.claimIdempotencyKey(principalId, key, fingerprint, staleMs, ttlMs);
  readonly completeIdempotencyKey: IdempotencyStore['completeIdempotencyKey'] = (principalId, key, response) =>
    this.idempotency.completeIdempotencyKey(principalId, key, response);
  readonly releaseIdempotencyKey: IdempotencyStore['releaseIdempotencyKey'] = (principalId, key) =>
    this.idempotency.releaseIdempotencyKey(principalId, key);

  readonly expiryDue: ExpiryStore['expiryDue'] = (warningsMs, limit, after) => this.expiry.expiryDue(warningsMs, limit, after);
  readonly claimExpiryNotice: ExpiryStore['claimExpiryNotice'] = (clusterId, expiresAt, thresholdMs) =>
    this.expiry.claimExpiryNotice(clusterId, expiresAt, thresholdMs);
  readonly expireCluster: ExpiryStore['expireCluster'] = (clusterId, requestedBy) => this.expiry.expireCluster(clusterId, requestedBy);
  readonly settleRefusedExpiry: ExpiryStore['settleRefusedExpiry'] = (clusterId, expiresAt, generation) =>
    this.expiry.settleRefusedExpiry(clusterId, expiresAt, generation);
}
