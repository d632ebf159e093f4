/**
 * The `local-files` test blueprint: a "cluster" whose cloud resources are JSON files under
 * `<dataDir>/local-clusters/<clusterName>/` (`cluster.json`, `pools/<pool>.json`), managed by Pulumi
 * dynamic providers only, so that the whole engine (state, secrets, locks, refresh, drift, cancel,
 * crash recovery) runs for real without a cloud account.
 *
 * Closure serialization: Pulumi serializes each dynamic provider (its methods and what they
 * capture) into the state, and the `pulumi-resource-pulumi-nodejs` plugin loads it as CommonJS
 * through `require-from-string`. This module is ESM compiled by tsx, so the provider methods are
 * self-contained: they `require` node built-ins inside their bodies (capturing a module-scope `import`
 * binding fails with "error serializing property __provider"),
 * and the only module-scope values they capture are `fileProvider` and `callJournal`, objects of such methods.
 *
 * The call journal: when the job's environment names a file in `LOCAL_FILES_JOURNAL` (a chaos run
 * passes it with CLUSTERD_ENGINE_ENV), every provider call appends a line to it, tagged with the job
 * mark every process of one run carries. Appends to one file are ordered by the kernel, so the file
 * says which run touched which "cloud" resource in what order: two runs on one cluster interleaving
 * there is proof that they overlapped (see bench/chaos/journal.ts).
 */
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import type { Blueprint, BlueprintContext, BlueprintModuleContext } from '../../src/blueprints/blueprint.js';
import type { VersionCalendarEntry } from '../../src/domain/version-support.js';

const poolSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be 1-31 characters of a-z, 0-9 and -, starting with a letter'),
  size: z.number().int('must be an integer').min(0, 'must be at least 0').max(100, 'must be at most 100'),
  /** A machine type to declare: changing it replaces the pool, as a cloud's node pools are. */
  instanceType: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,39}$/, 'must be 1-40 characters of a-z, 0-9, . and -')
    .optional(),
});

/** The spec of a local-files cluster. */
export const localFilesSpecSchema = z.strictObject({
  /** Kubernetes minor version, e.g. `1.30`. */
  version: z.string().regex(/^1\.\d{2}$/, 'must look like 1.30'),
  /** 1-10 pools with unique names; renaming a pool replaces it. */
  nodePools: z
    .array(poolSchema)
    .min(1, 'must have at least 1 node pool')
    .max(10, 'must have at most 10 node pools')
    .refine((pools) => new Set(pools.map((p) => p.name)).size === pools.length, 'node pool names must be unique'),
  /** Where the cluster would live, for the policies' region rules; written into the cluster file. */
  region: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be 1-31 characters of a-z, 0-9 and -, starting with a letter')
    .optional(),
  /** Written into every file. */
  tags: z.record(z.string(), z.string()).optional(),
  /** Every resource create/update sleeps this long, for cancel and crash tests. Milliseconds, 0-600000. @defaultValue 0 */
  delayMs: z.number().int('must be an integer').min(0, 'must be at least 0').max(600_000, 'must be at most 600000').optional(),
  /** Every resource read (refresh, drift check) sleeps this long, for tests of long checks. Milliseconds, 0-600000. @defaultValue 0 */
  readDelayMs: z.number().int('must be an integer').min(0, 'must be at least 0').max(600_000, 'must be at most 600000').optional(),
  /** The provider throws on this kind of step. */
  failOn: z.enum(['create', 'update', 'delete'], 'must be one of create, update, delete').optional(),
  /**
   * Exported as a secret output, to check that secrets never leave the engine in clear. Marked
   * `writeOnly` (JSON Schema / OpenAPI) so that answers can leave it out of the spec they return.
   */
  secretValue: z.string().optional().meta({ writeOnly: true }),
});

export type LocalFilesSpec = z.infer<typeof localFilesSpecSchema>;

/**
 * The inputs of one file resource, flat so that diffs and drift name the real property (`size`,
 * `version`, `tags`): everything but `filePath`, `delayMs` and `failOn` is the file's content.
 */
interface FileInputs {
  filePath: string;
  delayMs: number;
  readDelayMs: number;
  failOn: string;
  [property: string]: unknown;
}

/** Only the keys whose value is set: a file written before a field existed does not differ from one written without it. */
function optional(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The name of the variable naming the call journal; see the module comment. */
export const JOURNAL_VAR = 'LOCAL_FILES_JOURNAL';

/** One line of the call journal. */
export interface JournalLine {
  /** Wall clock of the provider process. Milliseconds since the epoch. */
  at: number;
  /** The run's job mark (CLUSTERD_JOB_MARK), null outside a service job. */
  mark: string | null;
  pid: number;
  call: 'create' | 'read' | 'update' | 'delete' | 'diff';
  /** `begin` before the call does anything, `end` once it has written (or read) its file, `fail` when it throws. */
  phase: 'begin' | 'end' | 'fail';
  /** The resource's file (absolute). */
  file: string;
}

/** Appends to the call journal when there is one. Self-contained, like the provider methods that call it. */
const callJournal = {
  note(call: JournalLine['call'], phase: JournalLine['phase'], file: unknown): void {
    const target = process.env.LOCAL_FILES_JOURNAL;
    if (!target) return;
    const fs = require('node:fs') as typeof import('node:fs');
    const line: JournalLine = {
      at: Date.now(),
      mark: process.env.CLUSTERD_JOB_MARK ?? null,
      pid: process.pid,
      call,
      phase,
      file: String(file),
    };
    // One write of one short line with O_APPEND: lines of concurrent writers never mix.
    fs.appendFileSync(target, JSON.stringify(line) + '\n');
  },
};

/**
 * One provider serves both resource types; outputs are the inputs plus what the provider adds.
 * Self-contained on purpose: see the module comment.
 */
const fileProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: FileInputs) {
    const fs = require('node:fs') as typeof import('node:fs');
    const nodePath = require('node:path') as typeof import('node:path');
    const { filePath, delayMs, readDelayMs, failOn, __provider, ...content } = inputs;
    callJournal.note('create', 'begin', filePath);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (failOn === 'create') {
      callJournal.note('create', 'fail', filePath);
      throw new Error(`local-files: refusing to create ${filePath} (failOn: create)`);
    }
    fs.mkdirSync(nodePath.dirname(filePath), { recursive: true });
    fs.writeFileSync(filePath, JSON.stringify(content, null, 2) + '\n');
    callJournal.note('create', 'end', filePath);
    return { id: filePath, outs: { filePath, delayMs, readDelayMs, failOn, ...content } };
  },

  async read(id: string, props: Record<string, unknown>) {
    const fs = require('node:fs') as typeof import('node:fs');
    // A missing file means the resource is gone: an empty result makes refresh drop it from the state.
    const readDelayMs = Number(props.readDelayMs ?? 0);
    callJournal.note('read', 'begin', id);
    if (readDelayMs > 0) await new Promise((r) => setTimeout(r, readDelayMs));
    const exists = fs.existsSync(id);
    const content = exists ? (JSON.parse(fs.readFileSync(id, 'utf8')) as Record<string, unknown>) : {};
    callJournal.note('read', 'end', id);
    if (!exists) return {};
    return { id, props: { filePath: id, delayMs: props.delayMs, readDelayMs: props.readDelayMs, failOn: props.failOn, ...content } };
  },

  async diff(id: string, olds: Record<string, unknown>, news: FileInputs) {
    callJournal.note('diff', 'end', news.filePath ?? id);
    // Provider-owned values (the cluster token) and the serialized provider itself are not desired state.
    const ignored = new Set(['__provider', 'token']);
    const keys = new Set([...Object.keys(olds), ...Object.keys(news)].filter((k) => !ignored.has(k)));
    const changed = [...keys].filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    // The file path is derived from the pool name: a rename is a new file, hence a replacement. A
    // new machine type replaces a pool, as in a cloud.
    const replaces = changed.filter((k) => k === 'filePath' || k === 'name' || k === 'instanceType');
    return { changes: changed.length > 0, replaces, deleteBeforeReplace: true };
  },

  async update(_id: string, olds: Record<string, unknown>, news: FileInputs) {
    const fs = require('node:fs') as typeof import('node:fs');
    const { filePath, delayMs, readDelayMs, failOn, __provider, ...desired } = news;
    callJournal.note('update', 'begin', filePath);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (failOn === 'update') {
      callJournal.note('update', 'fail', filePath);
      throw new Error(`local-files: refusing to update ${filePath} (failOn: update)`);
    }
    // Keep provider-generated values (the cluster token) across updates.
    const content = { ...desired, ...(olds.token === undefined ? {} : { token: olds.token }) };
    fs.writeFileSync(filePath, JSON.stringify(content, null, 2) + '\n');
    callJournal.note('update', 'end', filePath);
    return { outs: { filePath, delayMs, readDelayMs, failOn, ...content } };
  },

  async delete(id: string, props: Record<string, unknown>) {
    const fs = require('node:fs') as typeof import('node:fs');
    const nodePath = require('node:path') as typeof import('node:path');
    callJournal.note('delete', 'begin', id);
    if (props.failOn === 'delete') {
      callJournal.note('delete', 'fail', id);
      throw new Error(`local-files: refusing to delete ${id} (failOn: delete)`);
    }
    fs.rmSync(id, { force: true });
    // The last pool takes `pools/` with it, the cluster its own directory (pools go first).
    try {
      fs.rmdirSync(nodePath.dirname(id));
    } catch {
      // Not empty: other resources still live there.
    }
    callJournal.note('delete', 'end', id);
  },
};

/** The cluster's provider additionally mints a token, as a real control plane would. */
const clusterProvider: pulumi.dynamic.ResourceProvider = {
  ...fileProvider,
  async create(inputs: FileInputs) {
    const crypto = require('node:crypto') as typeof import('node:crypto');
    // Runs the shared create with the token added; `fileProvider` is plain data the serializer captures.
    return fileProvider.create({ ...inputs, token: crypto.randomBytes(16).toString('hex') });
  },
};

interface FileResourceArgs {
  filePath: pulumi.Input<string>;
  delayMs: pulumi.Input<number>;
  readDelayMs: pulumi.Input<number>;
  failOn: pulumi.Input<string>;
  [property: string]: pulumi.Input<unknown>;
}

/** The cluster's control plane: `cluster.json` with `{ name, version, tags, token }`. */
class ClusterFile extends pulumi.dynamic.Resource {
  declare readonly filePath: pulumi.Output<string>;
  declare readonly token: pulumi.Output<string>;
  constructor(name: string, args: FileResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(clusterProvider, name, { ...args, token: undefined }, { ...opts, additionalSecretOutputs: ['token'] }, 'local-files', 'Cluster');
  }
}

/** One node pool: `pools/<name>.json` with `{ name, size, tags }`. */
class NodePoolFile extends pulumi.dynamic.Resource {
  declare readonly filePath: pulumi.Output<string>;
  constructor(name: string, args: FileResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(fileProvider, name, args, opts, 'local-files', 'NodePool');
  }
}

/** Arguments of {@link LocalCluster}. */
export interface LocalClusterArgs {
  spec: LocalFilesSpec;
  /** The directory holding this cluster's files (absolute). */
  dir: string;
}

/** One local-files cluster: the control-plane file and one file per node pool, all children of this component. */
export class LocalCluster extends pulumi.ComponentResource {
  readonly endpoint: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly nodePoolNames: string[];

  constructor(name: string, args: LocalClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('clusterd:local-files:Cluster', name, {}, opts);
    const { spec, dir } = args;
    const control = { delayMs: spec.delayMs ?? 0, readDelayMs: spec.readDelayMs ?? 0, failOn: spec.failOn ?? '' };
    const tags = spec.tags ?? {};
    const cluster = new ClusterFile(
      'cluster',
      { filePath: path.join(dir, 'cluster.json'), name, version: spec.version, ...optional({ region: spec.region }), tags, ...control },
      { parent: this },
    );
    for (const pool of spec.nodePools) {
      new NodePoolFile(
        `pool-${pool.name}`,
        {
          filePath: path.join(dir, 'pools', `${pool.name}.json`),
          name: pool.name,
          size: pool.size,
          ...optional({ instanceType: pool.instanceType }),
          tags,
          ...control,
        },
        // The pools belong to the cluster: created after it, deleted before it.
        { parent: this, dependsOn: [cluster] },
      );
    }
    this.endpoint = pulumi.interpolate`file://${cluster.filePath}`;
    this.kubeconfig = pulumi.secret(
      pulumi.all([this.endpoint, cluster.token]).apply(([server, token]) =>
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name, cluster: { server } }],
          users: [{ name, user: { token } }],
        }),
      ),
    );
    this.nodePoolNames = spec.nodePools.map((p) => p.name);
    this.registerOutputs({ endpoint: this.endpoint, kubeconfig: this.kubeconfig });
  }
}

const minorOf = (version: string) => Number(version.split('.')[1]);

const DAY_MS = 86_400_000;

/**
 * A small support calendar around `now` (when the module loads), so that every support status is
 * reachable through the API whatever the date: 1.20 is past all support, 1.21 in extended support,
 * 1.22 in standard support that ends in 20 days (past the 60- and 30-day warnings, not the 7-day
 * one), 1.23 in standard support for 400 more days. The versions it does not list (the 1.30s most
 * tests use) have no support status, and no version rule applies to them.
 */
export function testCalendar(now: number): VersionCalendarEntry[] {
  const day = (offsetDays: number) => new Date(now + offsetDays * DAY_MS).toISOString().slice(0, 10);
  const row = (version: string, released: number, standardEnds: number, extendedEnds: number): VersionCalendarEntry => ({
    version,
    released: day(released),
    endOfStandardSupport: day(standardEnds),
    endOfExtendedSupport: day(extendedEnds),
    source: 'test/blueprints/local-files.ts (made up, relative to the start of the service)',
    confidence: 'inferred',
    checked: day(0),
  });
  return [row('1.20', -900, -500, -100), row('1.21', -600, -10, 300), row('1.22', -400, 20, 400), row('1.23', -30, 400, 800)];
}

/**
 * The blueprint module: its files live under `<ctx.dataDir>/local-clusters/<clusterName>/`, or under
 * `LOCAL_FILES_ROOT` when the environment names one: the "cloud" that workers on several machines, each
 * with a data directory of its own, all reach (the topology test passes it with CLUSTERD_ENGINE_ENV).
 */
export default function localFiles(ctx: BlueprintModuleContext): Blueprint<LocalFilesSpec> {
  const root = process.env.LOCAL_FILES_ROOT
    ? path.resolve(process.env.LOCAL_FILES_ROOT)
    : path.join(path.resolve(ctx.dataDir), 'local-clusters');
  return {
    name: 'local-files',
    description: 'Test cluster made of JSON files on the worker (no cloud account needed)',
    specSchema: localFilesSpecSchema,
    versions: { calendar: testCalendar(Date.now()), field: 'version' },
    // No endpoint: a pool is as many nodes as its size.
    facts: (spec) => ({
      region: spec.region ?? null,
      version: spec.version,
      endpoint: null,
      nodePools: spec.nodePools.map((p) => ({
        name: p.name,
        instanceType: p.instanceType ?? null,
        minSize: p.size,
        maxSize: p.size,
        desiredSize: p.size,
      })),
    }),
    // Kubernetes' rule, as the built-in blueprints have it: one minor version at a time, never down.
    validateChange: (from, to) => {
      const step = minorOf(to.version) - minorOf(from.version);
      if (step < 0)
        return [{ field: 'spec.version', rule: 'version_downgrade', message: `cannot go from ${from.version} down to ${to.version}` }];
      if (step > 1)
        return [{ field: 'spec.version', rule: 'version_skip', message: `cannot go from ${from.version} to ${to.version} in one change` }];
      return [];
    },
    nextUpgradeStep: (spec, version) => {
      if (minorOf(version) < minorOf(spec.version))
        return {
          issues: [
            { field: 'change.upgrade.version', rule: 'version_downgrade', message: `cannot go from ${spec.version} down to ${version}` },
          ],
        };
      if (spec.version === version) return { step: null };
      const next = `1.${minorOf(spec.version) + 1}`;
      return { step: { title: `control plane to ${next}`, patch: { version: next } } };
    },
    program: (spec: LocalFilesSpec, context: BlueprintContext) => async () => {
      const cluster = new LocalCluster(context.clusterName, { spec, dir: path.join(root, context.clusterName) });
      return {
        endpoint: cluster.endpoint,
        version: spec.version,
        nodePools: cluster.nodePoolNames,
        kubeconfig: cluster.kubeconfig,
        ...(spec.secretValue === undefined ? {} : { secretValue: pulumi.secret(spec.secretValue) }),
      };
    },
  };
}
