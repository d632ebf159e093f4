import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** How a sealed value is stored in place of the field's value: `{ "$sealed": "v1:<key id>:<iv|ciphertext|tag, base64url>" }`. */
export const SEALED_KEY = '$sealed';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value could not be opened: another records key sealed it, or it was altered. */
export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

const isSealed = (value: unknown): value is { [SEALED_KEY]: string } =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).length === 1 &&
  typeof (value as Record<string, unknown>)[SEALED_KEY] === 'string';

/**
 * Encrypts a blueprint's write-only spec fields (secrets the program needs) where specs are stored:
 * the cluster's desired and applied spec and every operation's copy. AES-256-GCM with a fresh IV per
 * value and the field's name as associated data, so a sealed value cannot be moved to another field
 * unnoticed. Only the service's records key opens them; the worker opens an operation's spec just
 * before handing it to the engine's child process.
 */
export class SpecSealer {
  readonly #key: Buffer;
  /** Names the key in every sealed value, so that a value sealed with another key is told apart from a damaged one. */
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the records key must be 32 bytes');
    this.#key = key;
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  /** The spec with the values of `fields` sealed (values already sealed are kept as they are). */
  seal(spec: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
    if (!fields.some((f) => f in spec && !isSealed(spec[f]))) return spec;
    const sealed = { ...spec };
    for (const field of fields) {
      if (!(field in sealed) || isSealed(sealed[field])) continue;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.#key, iv).setAAD(Buffer.from(field));
      const body = Buffer.concat([cipher.update(JSON.stringify(sealed[field]), 'utf8'), cipher.final()]);
      sealed[field] = { [SEALED_KEY]: `${VERSION}:${this.keyId}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}` };
    }
    return sealed;
  }

  /** The spec with every sealed top-level value opened. @throws SealError */
  open(spec: Record<string, unknown>): Record<string, unknown> {
    if (!Object.values(spec).some(isSealed)) return spec;
    const opened = { ...spec };
    for (const [field, value] of Object.entries(spec)) if (isSealed(value)) opened[field] = this.#openValue(field, value[SEALED_KEY]);
    return opened;
  }

  #openValue(field: string, text: string): unknown {
    const [version, keyId, data] = text.split(':');
    if (version !== VERSION || !data) throw new SealError(`spec.${field} is sealed in an unknown form`);
    if (keyId !== this.keyId)
      throw new SealError(
        `spec.${field} was sealed with another records key (${keyId}); this service has key ${this.keyId}: give every process the same CLUSTERD_RECORDS_KEY`,
      );
    const raw = Buffer.from(data, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES)).setAAD(Buffer.from(field));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return JSON.parse(
        Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8'),
      );
    } catch {
      throw new SealError(`spec.${field} could not be opened: the sealed value was altered`);
    }
  }
}

/** Whether any of `fields` holds a value in clear (records written before sealing existed). */
export function hasClearFields(spec: Record<string, unknown> | null, fields: readonly string[]): boolean {
  return spec !== null && fields.some((f) => f in spec && !isSealed(spec[f]));
}
