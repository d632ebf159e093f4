/** Who read a cluster's kubeconfig, and when. */
export interface KubeconfigReadStore {
  recordKubeconfigRead(clusterId: string, readBy: string): Promise<void>;
  /** Newest first. */
  listKubeconfigReads(clusterId: string, limit: number): Promise<Array<{ readBy: string; readAt: string }>>;
}
