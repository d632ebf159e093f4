/**
 * The `default` of a switch that must cover every member of a union (an operation kind, an error
 * code): while every member has its case, `value` is `never` and this compiles; a new member without
 * one is a compile error here instead of a silent fall-through. Throws if reached anyway (a value
 * from outside the type, e.g. an old record).
 */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${String(value)}`);
}
