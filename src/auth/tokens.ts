import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError } from '../errors.js';
import type { TokenStore } from '../store/token-store.js';

/** Tokens are stored as their SHA-256: a leaked table reveals none. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new random bearer token; the prefix makes leaked ones easy to scan for. */
export const generateToken = () => `cld_${randomBytes(32).toString('base64url')}`;

/**
 * On the first start, and on any start that finds no active admin token (every one expired: the
 * last one cannot be revoked), creates an admin token and writes it to
 * `<dataDir>/admin-token` (mode 0600): whoever holds the data directory can always get back in.
 * Returns that path, or null when an active admin token exists.
 */
export async function ensureAdminToken(
  store: Pick<TokenStore, 'countActiveAdminTokens' | 'createToken'>,
  dataDir: string,
): Promise<string | null> {
  if ((await store.countActiveAdminTokens()) > 0) return null;
  const token = generateToken();
  const file = path.join(dataDir, 'admin-token');
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await store.createToken({ name: 'bootstrap-admin', team: null, role: 'admin', hash: hashToken(token), expiresAt: null });
  return file;
}

/** What a given first admin token must look like: long enough that it cannot be guessed. */
const GIVEN_TOKEN = /^[A-Za-z0-9._~+/=-]{32,512}$/;

/**
 * Records the first admin token an operator gives (CLUSTERD_ADMIN_TOKEN_FILE, a mounted Secret):
 * created when no token has its value yet, whichever API process gets there first. A token of that
 * value that exists already, active, expired or revoked, is left as it is: a revoked one stays revoked.
 * @returns whether it was created now
 */
export async function ensureGivenAdminToken(store: Pick<TokenStore, 'createToken'>, token: string): Promise<boolean> {
  if (!GIVEN_TOKEN.test(token))
    throw new Error('CLUSTERD_ADMIN_TOKEN_FILE: the token must be 32 to 512 characters of letters, digits and ._~+/=-');
  try {
    await store.createToken({ name: 'bootstrap-admin', team: null, role: 'admin', hash: hashToken(token), expiresAt: null });
    return true;
  } catch (err) {
    if (err instanceof ConflictError) return false;
    throw err;
  }
}
