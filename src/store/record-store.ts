import type { ClusterStore } from './cluster-store.js';
import type { ExpiryStore } from './expiry-store.js';
import type { IdempotencyStore } from './idempotency-store.js';
import type { KubeconfigReadStore } from './kubeconfig-read-store.js';
import type { OperationStore } from './operation-store.js';
import type { TokenStore } from './token-store.js';

/**
 * Durable records: clusters, operations and their events, kubeconfig reads, API tokens, idempotency
 * keys and expiry, as one object over one database (PostgreSQL on a server, PGlite embedded). It is
 * what the wiring opens and hands out; each caller takes the narrow store it uses.
 */
export interface RecordStore extends ClusterStore, OperationStore, KubeconfigReadStore, TokenStore, IdempotencyStore, ExpiryStore {
  /** Applies pending migrations; safe to call from several processes at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
}
