/**
 * Loaded with `--import` into a service process: moves that process's clock (`Date.now()`,
 * `new Date()`, `Date()`) by CLUSTERD_TEST_CLOCK_SKEW_MS, as on a host whose clock is off. Timers
 * and `performance.now()` keep running as they do: only the wall clock is wrong.
 */
const skewMs = Number(process.env.CLUSTERD_TEST_CLOCK_SKEW_MS ?? 0);
const RealDate = Date;
const now = () => RealDate.now() + skewMs;

globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) => Reflect.construct(target, args.length ? args : [now()], newTarget),
  apply: () => new RealDate(now()).toString(),
  get: (target, prop, receiver) => (prop === 'now' ? now : Reflect.get(target, prop, receiver)),
});
