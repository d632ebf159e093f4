import { z } from 'zod';

/**
 * A whole number in a query string or header: digits only (no sign, exponent, hex, or spaces, which
 * `Number()` would take) within [min, max]. Described to OpenAPI as the integer it is.
 */
export function queryInteger(min: number, max: number) {
  const digits = new RegExp(`^\\d{1,${String(max).length}}$`);
  const message = `must be a whole number from ${min} to ${max}`;
  return z
    .preprocess(
      (v) => (typeof v === 'string' && digits.test(v) ? Number(v) : v),
      z.number({ error: message }).int(message).min(min, message).max(max, message),
    )
    .meta({ type: 'integer', minimum: min, maximum: max });
}

/**
 * {@link queryInteger} with a default. A prefault (the value parsed when the parameter is absent)
 * rather than a default: zod leaves the default of a preprocessed value out of the OpenAPI
 * description, the prefault it keeps.
 */
export function queryIntegerOr(min: number, max: number, fallback: number) {
  return queryInteger(min, max).prefault(fallback);
}
