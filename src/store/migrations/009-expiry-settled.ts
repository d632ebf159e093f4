import type { Migration } from '../migrations.js';

/**
 * The expiry watch reads only clusters for which something may be due. A cluster's expiry is
 * *settled* once the watch has done what it can for that expiry and that spec: queued the destroy,
 * found a destroy already tried since the expiry (a person looks at a failed one), or found that the
 * blueprint refuses the destroy (announced once). A new expiry or a new spec (generation) re-arms it.
 */
export const expirySettled: Migration = {
  version: 9,
  name: 'expiry-settled',
  statements: [
    `ALTER TABLE clusters ADD COLUMN expiry_settled_at timestamptz`,
    `ALTER TABLE clusters ADD COLUMN expiry_settled_generation integer`,
    // Settled clusters leave the index, so however many of them there are, a pass never reads them.
    `CREATE INDEX clusters_expiry_open ON clusters (expires_at, id)
       WHERE expires_at IS NOT NULL AND destroyed_at IS NULL
         AND (expiry_settled_at, expiry_settled_generation) IS DISTINCT FROM (expires_at, generation)`,
    // Replaced by the index above: nothing else looks clusters up by expiry.
    `DROP INDEX clusters_expiring`,
  ],
};
