import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'vitest';
import { checkPolicyPacks } from '../../src/engine/policy-packs.js';
import { ROOT } from '../support/harness.js';

const PACK = path.join(ROOT, 'test/policy-packs/local-files-guard');

describe('checkPolicyPacks', () => {
  it('gives the packs and their config files, absolute', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clusterd-pack-config-'));
    writeFileSync(path.join(dir, 'guard.json'), JSON.stringify({ 'pool-size-limit': { maxSize: 100 } }));
    assert.deepEqual(await checkPolicyPacks([PACK], [path.join(dir, 'guard.json')]), {
      packs: [PACK],
      configs: [path.join(dir, 'guard.json')],
    });
    assert.deepEqual(await checkPolicyPacks([]), { packs: [], configs: [] });
  });

  it('refuses, naming the setting, a directory without a pack, a config per pack missing, or a config that is not JSON', async () => {
    await assert.rejects(checkPolicyPacks([ROOT]), /CLUSTERD_POLICY_PACKS names .* \(no PulumiPolicy.yaml there\)/);
    await assert.rejects(checkPolicyPacks([PACK, PACK], [path.join(PACK, 'package.json')]), /2 packs: give one per pack/);
    await assert.rejects(
      checkPolicyPacks([PACK], [path.join(PACK, 'index.js')]),
      /CLUSTERD_POLICY_PACK_CONFIGS names .* not a readable JSON file/,
    );
  });
});
