/**
 * The `outputs-only` test blueprint: a "cluster" whose stack declares no resource, only outputs. For
 * tests of scheduling at fleet scale (a sweep over fifty clusters, a lane drained by many operations),
 * where what a provider does is beside the point: no provider plugin starts and no provider is
 * serialized, so an operation costs the job's child and its CLI processes alone, about half of what a
 * `local-files` one costs. The stacks, the state, the locks and the CLI are as real as with any blueprint.
 *
 * `delayMs` holds every update of the stack (provision, update), and `previewDelayMs` every preview
 * (a preview operation, the second half of a drift check), that long without using the CPU: operations
 * last while a test acts around them. A run the engine must cancel mid-resource needs `local-files`.
 */
import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import type { Blueprint, BlueprintContext } from '../../src/blueprints/blueprint.js';

const poolSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be 1-31 characters of a-z, 0-9 and -, starting with a letter'),
  size: z.number().int('must be an integer').min(0, 'must be at least 0').max(100, 'must be at most 100'),
});

/** The spec of an outputs-only cluster: what the stack exports. */
export const outputsOnlySpecSchema = z.strictObject({
  /** Kubernetes minor version, e.g. `1.30`. */
  version: z.string().regex(/^1\.\d{2}$/, 'must look like 1.30'),
  nodePools: z.array(poolSchema).min(1, 'must have at least 1 node pool').max(10, 'must have at most 10 node pools'),
  tags: z.record(z.string(), z.string()).optional(),
  /** Every update of the stack waits this long. Milliseconds, 0-600000. @defaultValue 0 */
  delayMs: z.number().int('must be an integer').min(0, 'must be at least 0').max(600_000, 'must be at most 600000').optional(),
  /** Every preview waits this long. Milliseconds, 0-600000. @defaultValue 0 */
  previewDelayMs: z.number().int('must be an integer').min(0, 'must be at least 0').max(600_000, 'must be at most 600000').optional(),
});

export type OutputsOnlySpec = z.infer<typeof outputsOnlySpecSchema>;

export default function outputsOnly(): Blueprint<OutputsOnlySpec> {
  return {
    name: 'outputs-only',
    description: 'Test cluster whose stack holds outputs only (no resource, no provider plugin)',
    specSchema: outputsOnlySpecSchema,
    program: (spec: OutputsOnlySpec, context: BlueprintContext) => async () => {
      const delayMs = pulumi.runtime.isDryRun() ? spec.previewDelayMs : spec.delayMs;
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return {
        endpoint: `outputs-only://${context.clusterName}`,
        version: spec.version,
        nodePools: spec.nodePools.map((p) => p.name),
        tags: spec.tags ?? {},
      };
    },
  };
}
