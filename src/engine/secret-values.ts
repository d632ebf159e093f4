import { SECRET_PLACEHOLDER } from '../domain/operation.js';

/** How Pulumi marks a secret value in serialized state and engine events: an object with this key. */
const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';

/** Whether `value` is a value Pulumi marks secret. */
export function isSecretValue(value: unknown): boolean {
  return typeof value === 'object' && value !== null && SECRET_SIG_KEY in value;
}

/**
 * `value` with every value Pulumi marks secret, at any depth, and every string `isSecretString` flags,
 * replaced by {@link SECRET_PLACEHOLDER} (which is also what `pulumi stack output --json` prints).
 */
export function maskSecretValues(value: unknown, isSecretString: (s: string) => boolean = () => false): unknown {
  if (typeof value === 'string') return isSecretString(value) ? SECRET_PLACEHOLDER : value;
  if (Array.isArray(value)) return value.map((v) => maskSecretValues(v, isSecretString));
  if (isSecretValue(value)) return SECRET_PLACEHOLDER;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecretValues(v, isSecretString)]));
  return value;
}
