// Compiles the service to dist/ (one JavaScript file and source map per TypeScript file, same
// layout), for `npm start`, the job children and production. Transpiles only: the type check is
// `npm run typecheck`, which `npm test` runs.
import { build } from 'esbuild';
import { copyFile, glob, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist');
const entryPoints = [];
for await (const file of glob('{src,programs,server,queue}/**/*.ts', { cwd: root }))
  if (!file.endsWith('.d.ts')) entryPoints.push(path.join(root, file));

// A file removed from the sources must not live on in dist/.
await rm(out, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: out,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: true,
  logLevel: 'warning',
});
// The service reads its Pulumi project file beside its code.
await copyFile(path.join(root, 'Pulumi.yaml'), path.join(out, 'Pulumi.yaml'));
console.error(`[build] ${entryPoints.length} files to dist/`);
