/**
 * The layering of docs/architecture.md ("Layers"), checked by `npm test`: a violation fails the run.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'only-main-wires-server-and-queue',
      comment:
        'src/ holds the core; only src/main.ts (and the roles it starts, src/roles/) put the HTTP server and the queue together with it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(main|roles/)' },
      to: { path: '^(server|queue)/' },
    },
    {
      name: 'domain-imports-nothing-of-ours',
      comment: 'src/domain is the vocabulary every layer shares; it depends on no other part of the project.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^(src|server|queue|programs)/', pathNot: '^src/domain/' },
    },
    {
      name: 'stores-import-no-services',
      comment: 'Stores keep records; the services that decide what to record call them, never the other way round.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^(src/(lifecycle|drift|webhooks|events|engine|limits|rollouts|maintenance|versions|tokens)|server|queue)/' },
    },
    {
      name: 'programs-stay-out-of-the-service',
      comment:
        'Blueprint programs run inside the job child: they know the blueprint contract and the domain, never the server, the queue or the records.',
      severity: 'error',
      from: { path: '^programs/' },
      to: { path: '^(server|queue|src/store)/' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle of runtime imports makes load order matter; cycles through types only are harmless.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|server|queue|programs)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
