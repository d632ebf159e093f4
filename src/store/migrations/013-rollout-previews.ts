import type { Migration } from '../migrations.js';

/**
 * Engine previews of a rollout (POST /v1/rollouts/preview with enginePreview): a rollout record in
 * `preview` mode whose members queue preview operations of the spec they would reach, and keep the
 * change summary each one found. Such a rollout holds no cluster.
 */
export const rolloutPreviews: Migration = {
  version: 13,
  name: 'rollout-previews',
  statements: [
    `ALTER TABLE rollouts ADD COLUMN mode text NOT NULL DEFAULT 'change' CHECK (mode IN ('change', 'preview'))`,
    'ALTER TABLE rollout_members ADD COLUMN summary jsonb',
  ],
};
