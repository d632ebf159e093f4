import path from 'node:path';
import { ensureGeneratedSecret } from './generated-secret.js';

/** The file a generated records key is kept in, beside the generated stack passphrase. */
export const recordsKeyFileOf = (dataDir: string) => path.join(dataDir, 'records-key');

/** Decodes CLUSTERD_RECORDS_KEY: 32 bytes in base64 or base64url. @throws when it is not that */
export function parseRecordsKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), /[+/=]/.test(text) ? 'base64' : 'base64url');
  if (key.length !== 32)
    throw new Error(`CLUSTERD_RECORDS_KEY must be 32 bytes in base64 (got ${key.length} bytes); make one with: openssl rand -base64 32`);
  return key;
}

/**
 * The key that seals write-only spec fields in the records: the one given, else one generated once
 * into `<dataDir>/records-key` (mode 0600) and read back afterwards. Losing it makes sealed fields
 * unreadable: back it up with the passphrase. Processes that share records must share the key.
 */
export async function loadRecordsKey(given: string | undefined, dataDir: string): Promise<{ key: Buffer; generated: boolean }> {
  if (given) return { key: parseRecordsKey(given), generated: false };
  return { key: parseRecordsKey(await ensureGeneratedSecret(recordsKeyFileOf(dataDir), 'base64')), generated: true };
}
