import type { Migration } from '../migrations.js';

/**
 * Tokens get a role (admin, member, approver, viewer), an expiry, and can be revoked. The role
 * replaces the `admin` flag: one truth, so no row can say both "admin" and "viewer". A process of
 * an earlier release, still running against these records, then fails its token lookups (no
 * `admin` column) rather than letting a revoked or expired token in. Revoked tokens stay (when and
 * by whom is part of the audit); a token is active while `revoked_at` is null and `expires_at` is
 * null or after the database's `now()`.
 */
export const tokenRoles: Migration = {
  version: 16,
  name: 'token-roles',
  statements: [
    `ALTER TABLE api_tokens ADD COLUMN role text`,
    `UPDATE api_tokens SET role = CASE WHEN admin THEN 'admin' ELSE 'member' END`,
    `ALTER TABLE api_tokens ALTER COLUMN role SET NOT NULL`,
    `ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role CHECK (role IN ('admin', 'member', 'approver', 'viewer'))`,
    // An admin acts for every team, every other role for exactly one.
    `ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_team_by_role CHECK ((role = 'admin') = (team IS NULL))`,
    `ALTER TABLE api_tokens DROP COLUMN admin`,
    `ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz`,
    `ALTER TABLE api_tokens ADD COLUMN revoked_at timestamptz`,
    `ALTER TABLE api_tokens ADD COLUMN revoked_by uuid REFERENCES api_tokens (id)`,
    `ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_revoked CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))`,
    // GET /v1/tokens, newest first, of every team or one.
    `CREATE INDEX api_tokens_created ON api_tokens (created_at, id)`,
    `CREATE INDEX api_tokens_team_created ON api_tokens (team, created_at, id)`,
  ],
};
