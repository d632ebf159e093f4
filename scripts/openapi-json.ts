/**
 * Prints the OpenAPI description the service serves at /openapi.json, without starting anything (no
 * records, no Redis, no engine): the built-in blueprints, plus the blueprint modules named on the
 * command line (as CLUSTERD_BLUEPRINT_MODULES would name them), with the default input limits.
 *
 *   tsx scripts/openapi-json.ts [blueprint-module ...] > openapi.json
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { builtInBlueprints } from '../programs/index.js';
import { BlueprintRegistry, loadBlueprintModules } from '../src/blueprints/registry.js';
import { buildOpenApi } from '../server/openapi.js';

const blueprints = new BlueprintRegistry();
for (const b of builtInBlueprints) blueprints.register(b);
// A module may keep files under the data directory once it runs clusters; describing it writes nothing there.
const dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-openapi-'));
try {
  await loadBlueprintModules(blueprints, process.argv.slice(2), { dataDir });
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(buildOpenApi(blueprints.list()), null, 2)}\n`);
