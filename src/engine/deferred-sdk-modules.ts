/**
 * The Pulumi SDK's runtime loads its closure serializer with everything else, and the serializer
 * requires the TypeScript compiler and npm's Arborist (with pacote, sigstore and an HTTP stack behind
 * it) as soon as it loads. Only a program that serializes a function needs them (a dynamic provider);
 * a job whose blueprint has none still paid for them: measured with SDK 3.259 on Node 24, they were
 * 0.5 s of the 0.8 s of CPU the SDK takes to load, and 50 MB of the job child's 140 MB.
 *
 * Deferring them means standing in for each in the CommonJS module cache before the SDK loads: the
 * stand-in loads the real module on the first use of any of its members. If the SDK's layout ever
 * changes so that one cannot be found, that one simply loads as before.
 */
import Module, { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The serializer's own requires: the module that requires it, and its request as written there. */
const SERIALIZER_ONLY: ReadonlyArray<{ requiredBy: string; request: string }> = [
  { requiredBy: '@pulumi/pulumi/runtime/closure/parseFunction.js', request: '../../typescript-shim' },
  { requiredBy: '@pulumi/pulumi/runtime/closure/codePaths.js', request: '@npmcli/arborist' },
];

/**
 * Makes the SDK's closure serializer load its heavy dependencies when a program first serializes a
 * function rather than when the SDK loads. Call it before anything imports `@pulumi/pulumi`; it
 * returns the modules it deferred (absolute paths).
 */
export function deferSerializerModules(): string[] {
  const deferred: string[] = [];
  for (const { requiredBy, request } of SERIALIZER_ONLY) {
    try {
      const requireAsSdk = createRequire(require.resolve(requiredBy));
      const file = requireAsSdk.resolve(request);
      if (require.cache[file]) continue;
      require.cache[file] = standIn(file, () => requireAsSdk(request) as Record<PropertyKey, unknown>);
      deferred.push(file);
    } catch {
      // Not where SDK 3.259 keeps it: nothing to defer.
    }
  }
  return deferred;
}

function standIn(file: string, loadReal: () => Record<PropertyKey, unknown>): Module {
  let real: Record<PropertyKey, unknown> | undefined;
  const load = () => {
    if (!real) {
      // The real module takes the stand-in's place in the cache: later requires get it directly.
      delete require.cache[file];
      real = loadReal();
    }
    return real;
  };
  const module = new Module(file);
  module.filename = file;
  module.loaded = true;
  module.exports = new Proxy(
    {},
    {
      // `__esModule` keeps TypeScript's `__importStar` from listing the members (which would load the
      // module) when the SDK imports it: it takes the stand-in as it is.
      get: (_target, key) => (key === '__esModule' ? true : load()[key]),
      has: (_target, key) => key in load(),
    },
  );
  return module;
}
