// Makes the release bundle: a directory that runs the service (`NODE_ENV=production node
// dist/src/main.js`, from inside it) with nothing else of the repository and no dev tool.
//
//   node scripts/release-bundle.mjs [dir] [--no-build]
//
// dir: where to make it, replaced whole (default release/clusterd-<version> in the repository);
// --no-build: package the dist/ already built instead of running scripts/build.mjs first (the
// Dockerfile builds in its own step; the bundle test packages the build the test run uses).
//
// It holds: dist/ (the compiled service: the job child dist/queue/child-entry.js, the migrations,
// the built-in blueprints, Pulumi.yaml, which the build copies there; source maps without the
// TypeScript text they embed), package.json (its "type": "module" makes dist/ ES modules),
// package-lock.json, the example policy pack (policy-packs/clusterd-baseline, CommonJS) and
// node_modules with the production dependencies only.
//
// The dependencies are copied from this repository's node_modules, which must match
// package-lock.json (scripts/ensure-deps.sh, or `npm install`): every package of the lockfile's tree
// that the root's `dependencies` reach through dependencies, optional dependencies that run on this
// platform and required peer dependencies, each checked against the lockfile's version. Not `npm ci
// --omit=dev`: npm 11 refuses this lockfile (see ensure-deps.sh), and npm's production set also
// holds typescript, an optional peer of @pulumi/pulumi that the lockfile marks devOptional because
// the root has it as a dev dependency (@pulumi/pulumi falls back to the TypeScript it vendors). No
// install script runs or is needed: @pulumi/kubernetes's only installs its provider plugin (the
// image does that itself), protobufjs's checks its CLI, msgpackr-extract ships prebuilt binaries.
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { cp, glob, lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();
const args = process.argv.slice(2);
const build = !args.includes('--no-build');
const positional = args.filter((a) => !a.startsWith('--'));
const unknown = args.filter((a) => a.startsWith('--') && a !== '--no-build');
if (unknown.length || positional.length > 1) {
  console.error('usage: node scripts/release-bundle.mjs [dir] [--no-build]');
  process.exit(2);
}

const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8'));
const out = positional[0] ? path.resolve(positional[0]) : path.join(root, 'release', `clusterd-${pkg.version}`);
await clearTarget(out);

if (build) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
for (const file of ['dist/src/main.js', 'dist/queue/child-entry.js', 'dist/Pulumi.yaml'])
  await lstat(path.join(root, file)).catch(() => fail(`${file} is missing: run npm run build (or leave out --no-build)`));

await cp(path.join(root, 'dist'), path.join(out, 'dist'), { recursive: true });
await stripSourcesContent(path.join(out, 'dist'));
for (const file of ['package.json', 'package-lock.json']) await cp(path.join(root, file), path.join(out, file));
await cp(path.join(root, 'policy-packs/clusterd-baseline'), path.join(out, 'policy-packs/clusterd-baseline'), { recursive: true });

const packages = productionPackages(lock);
await copyPackages(packages, out);

const bytes = await sizeOf(out);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.error(
  `[bundle] ${path.relative(process.cwd(), out) || '.'}: ${packages.length} production packages, ${(bytes / 2 ** 20).toFixed(0)} MiB, in ${seconds} s`,
);

function fail(message) {
  console.error(`[bundle] ${message}`);
  process.exit(1);
}

/** Removes a previous bundle at `dir`; refuses anything else that is not empty, and the repository itself. */
async function clearTarget(dir) {
  if (dir === root || root.startsWith(dir + path.sep) || dir === path.parse(dir).root) fail(`refusing to replace ${dir}`);
  const entries = await readdir(dir).catch(() => []);
  if (entries.length === 0) return;
  const previous = await lstat(path.join(dir, 'dist/src/main.js')).then(
    () => true,
    () => false,
  );
  if (!previous) fail(`${dir} is not empty and holds no previous bundle: give another directory`);
  await rm(dir, { recursive: true, force: true });
}

/** Source maps stay (stack traces name src/*.ts lines); the TypeScript text esbuild embeds in them does not. */
async function stripSourcesContent(dir) {
  for await (const file of glob('**/*.map', { cwd: dir })) {
    const map = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
    delete map.sourcesContent;
    await writeFile(path.join(dir, file), JSON.stringify(map));
  }
}

/**
 * Lockfile locations (`node_modules/a`, `node_modules/a/node_modules/b`) of the packages the root's
 * dependencies need at run time, found the way Node resolves them: from the requiring package's
 * location upwards.
 */
function productionPackages(lockfile) {
  const tree = lockfile.packages;
  if (lockfile.lockfileVersion < 2 || !tree?.['']) fail('package-lock.json has no packages tree (lockfileVersion 2 or later)');
  const chosen = new Map();
  const pending = [''];
  while (pending.length) {
    const from = pending.pop();
    for (const [name, optional] of needs(tree[from], from === '')) {
      const at = locate(tree, from, name);
      if (!at) {
        if (optional) continue;
        fail(`${from || 'package.json'} needs ${name}, which package-lock.json does not hold: run npm install`);
      }
      if (chosen.has(at)) continue;
      const entry = tree[at];
      if (entry.link) fail(`${at} is a link (a workspace?), which the bundle does not support`);
      if (optional && !runsHere(entry)) continue;
      if (entry.dev) fail(`${at} is needed at run time but package-lock.json calls it a dev dependency`);
      chosen.set(at, entry);
      pending.push(at);
    }
  }
  return [...chosen].map(([at, entry]) => ({ at, version: entry.version })).sort((a, b) => a.at.localeCompare(b.at));
}

/** What a lockfile entry needs: name -> optional. The root's dev dependencies are not needs. */
function needs(entry, isRoot) {
  const result = new Map();
  for (const name of Object.keys(entry.dependencies ?? {})) result.set(name, false);
  for (const name of Object.keys(entry.optionalDependencies ?? {})) result.set(name, true);
  if (!isRoot)
    for (const name of Object.keys(entry.peerDependencies ?? {}))
      if (!entry.peerDependenciesMeta?.[name]?.optional && !result.has(name)) result.set(name, false);
  return result;
}

/** Where Node finds `name` from the package at `from`: its own node_modules, then each parent's. */
function locate(tree, from, name) {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (tree[candidate]) return candidate;
    if (!dir) return null;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent === -1 ? '' : dir.slice(0, parent);
  }
}

/** Whether a package's os, cpu and libc fields allow this machine (npm's rule: a list of allowed, or of `!`-excluded values). */
function runsHere(entry) {
  const libc = process.platform !== 'linux' ? undefined : process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
  const allows = (list, value) => {
    if (!list?.length) return true;
    if (list.includes(`!${value}`)) return false;
    return list.every((v) => v.startsWith('!')) || list.includes(value);
  };
  return allows(entry.os, process.platform) && allows(entry.cpu, process.arch) && (libc === undefined || allows(entry.libc, libc));
}

/** Copies each package's own files (not its nested node_modules: those are packages of their own, or not needed). */
async function copyPackages(list, dest) {
  for (const { at, version } of list) {
    const source = path.join(root, at);
    const installed = await readFile(path.join(source, 'package.json'), 'utf8').then(
      // Some packages write their version with a leading v (@pulumi/policy).
      (text) => String(JSON.parse(text).version).replace(/^v/, ''),
      () => null,
    );
    if (installed !== version)
      fail(`${at} is ${installed ?? 'not installed'}, package-lock.json wants ${version}: run npm install (scripts/ensure-deps.sh) first`);
    const nested = path.join(source, 'node_modules');
    // Synchronous: fs.promises.cp awaits per file, and took twice as long for these 37,000 files.
    cpSync(source, path.join(dest, at), { recursive: true, verbatimSymlinks: true, filter: (p) => p !== nested });
  }
}

/** Bytes of the files under `dir` (what a copy of it takes, before file system blocks). */
async function sizeOf(dir) {
  let total = 0;
  for await (const entry of glob('**', { cwd: dir, withFileTypes: true }))
    if (entry.isFile()) total += (await lstat(path.join(entry.parentPath, entry.name))).size;
  return total;
}
