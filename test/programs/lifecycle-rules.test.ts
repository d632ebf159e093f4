import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { eksSpecSchema, gkeSpecSchema, builtInBlueprints } from '../../programs/index.js';

const eksBp = builtInBlueprints.find((b) => b.name === 'eks')!;
const gkeBp = builtInBlueprints.find((b) => b.name === 'gke')!;
const teamRoleArn = 'arn:aws:iam::123456789012:role/payments-admins';
const eks = (spec: Record<string, unknown>) => eksSpecSchema.parse({ region: 'eu-west-1', access: { teamRoleArn }, ...spec });
const gke = (spec: Record<string, unknown>) =>
  gkeSpecSchema.parse({ projectId: 'acme-prod', region: 'europe-west1', access: { teamGroup: 'payments@acme.example' }, ...spec });

interface Case {
  it: string;
  from: Record<string, unknown>;
  to: Record<string, unknown>;
  allowReplace?: boolean;
  expect: Array<{ field: string; rule: string; message: string }>;
}

const ALLOW = 'pass "allowReplace": true to accept';

const eksCases: Case[] = [
  { it: 'allows an upgrade of one minor version', from: { version: '1.32' }, to: { version: '1.33' }, expect: [] },
  {
    it: 'refuses skipping a minor version',
    from: { version: '1.31' },
    to: { version: '1.33' },
    expect: [
      {
        field: 'spec.version',
        rule: 'version_skip',
        message: 'cannot go from 1.31 to 1.33 in one change: upgrade one minor version at a time (1.32 next)',
      },
    ],
  },
  {
    it: 'refuses a downgrade',
    from: { version: '1.33' },
    to: { version: '1.32' },
    expect: [
      { field: 'spec.version', rule: 'version_downgrade', message: 'cannot go from 1.33 down to 1.32: downgrades are not supported' },
    ],
  },
  {
    it: 'allows the control plane to move ahead of pinned pools within the skew',
    from: { version: '1.31', nodePools: [{ name: 'general', version: '1.31' }] },
    to: { version: '1.32', nodePools: [{ name: 'general', version: '1.31' }] },
    expect: [],
  },
  {
    it: 'allows upgrading the control plane and a pool one step together (the pool follows the control plane in the run)',
    from: { version: '1.32', nodePools: [{ name: 'general', version: '1.32' }] },
    to: { version: '1.33', nodePools: [{ name: 'general', version: '1.33' }] },
    expect: [],
  },
  {
    it: 'refuses a pool skipping a minor version to catch up',
    from: { version: '1.33', nodePools: [{ name: 'general', version: '1.31' }] },
    to: { version: '1.33', nodePools: [{ name: 'general', version: '1.33' }] },
    expect: [
      {
        field: 'spec.nodePools.0.version',
        rule: 'version_skip',
        message: 'node pool "general" cannot go from 1.31 to 1.33 in one change: upgrade one minor version at a time (1.32 next)',
      },
    ],
  },
  {
    it: 'refuses a pool that stops pinning and would jump with the control plane',
    from: { version: '1.32', nodePools: [{ name: 'general', version: '1.31' }] },
    to: { version: '1.33', nodePools: [{ name: 'general' }] },
    expect: [
      {
        field: 'spec.nodePools.0.version',
        rule: 'version_skip',
        message: 'node pool "general" cannot go from 1.31 to 1.33 in one change: upgrade one minor version at a time (1.32 next)',
      },
    ],
  },
  {
    it: 'refuses a pool downgrade',
    from: { version: '1.33', nodePools: [{ name: 'general' }] },
    to: { version: '1.33', nodePools: [{ name: 'general', version: '1.32' }] },
    expect: [
      {
        field: 'spec.nodePools.0.version',
        rule: 'version_downgrade',
        message: 'node pool "general" cannot go from 1.33 down to 1.32: downgrades are not supported',
      },
    ],
  },
  {
    it: 'allows scaling in place',
    from: { nodePools: [{ name: 'general', minSize: 2, maxSize: 5 }] },
    to: { nodePools: [{ name: 'general', minSize: 3, maxSize: 10, desiredSize: 6 }] },
    expect: [],
  },
  {
    it: 'allows a new disk size (a new launch template version rolls the nodes)',
    from: { nodePools: [{ name: 'general', diskSizeGb: 100 }] },
    to: { nodePools: [{ name: 'general', diskSizeGb: 200 }] },
    expect: [],
  },
  { it: 'allows adding a pool', from: {}, to: { nodePools: [{ name: 'general' }, { name: 'batch', spot: true }] }, expect: [] },
  {
    it: 'refuses a new instance type without allowReplace',
    from: { nodePools: [{ name: 'general', instanceType: 'm6i.large' }] },
    to: { nodePools: [{ name: 'general', instanceType: 'm6i.xlarge' }] },
    expect: [
      {
        field: 'spec.nodePools.0.instanceType',
        rule: 'replacement_requires_allow_replace',
        message: `changing instanceType of node pool "general" (m6i.large → m6i.xlarge) replaces the pool: its nodes are deleted and new ones created; ${ALLOW}`,
      },
    ],
  },
  {
    it: 'accepts a new instance type with allowReplace',
    from: { nodePools: [{ name: 'general', instanceType: 'm6i.large' }] },
    to: { nodePools: [{ name: 'general', instanceType: 'm6i.xlarge' }] },
    allowReplace: true,
    expect: [],
  },
  {
    it: 'refuses switching a pool to spot without allowReplace, naming the pool by its new index',
    from: { nodePools: [{ name: 'a' }, { name: 'b' }] },
    to: { nodePools: [{ name: 'b', spot: true }, { name: 'a' }] },
    expect: [
      {
        field: 'spec.nodePools.0.spot',
        rule: 'replacement_requires_allow_replace',
        message: `changing spot of node pool "b" (false → true) replaces the pool: its nodes are deleted and new ones created; ${ALLOW}`,
      },
    ],
  },
  {
    it: 'refuses removing a pool without allowReplace',
    from: { nodePools: [{ name: 'general' }, { name: 'batch' }] },
    to: { nodePools: [{ name: 'general' }] },
    expect: [
      { field: 'spec.nodePools', rule: 'replacement_requires_allow_replace', message: `removes node pool "batch" and its nodes; ${ALLOW}` },
    ],
  },
  {
    it: 'refuses moving the cluster to another region without allowReplace',
    from: {},
    to: { region: 'eu-central-1' },
    expect: [
      {
        field: 'spec.region',
        rule: 'replacement_requires_allow_replace',
        message: `changing region (eu-west-1 → eu-central-1) replaces the whole cluster, its node pools and everything running on it; ${ALLOW}`,
      },
    ],
  },
  {
    it: 'refuses another network without allowReplace',
    from: {},
    to: { network: { mode: 'new', cidr: '10.1.0.0/16' } },
    expect: [
      {
        field: 'spec.network',
        rule: 'replacement_requires_allow_replace',
        message: `changing network ({"mode":"new","cidr":"10.0.0.0/16","natGateways":"one-per-zone"} → {"mode":"new","cidr":"10.1.0.0/16","natGateways":"one-per-zone"}) replaces the whole cluster, its node pools and everything running on it; ${ALLOW}`,
      },
    ],
  },
  {
    it: 'allows endpoint, logging and tag changes in place',
    from: {},
    to: { endpoint: { access: 'private' }, logging: ['api', 'audit'], tags: { env: 'prod' } },
    expect: [],
  },
  {
    it: 'allows patching an add-on to a newer catalog version',
    from: { addons: { certManager: { version: 'v1.17.2' } } },
    to: { addons: { certManager: { version: 'v1.18.2' } } },
    expect: [],
  },
  {
    it: 'refuses moving an add-on back to an older catalog version',
    from: { addons: { certManager: { version: 'v1.18.2' } } },
    to: { addons: { certManager: { version: 'v1.17.2' } } },
    expect: [
      {
        field: 'spec.addons.certManager.version',
        rule: 'addon_downgrade',
        message: 'cannot go from v1.18.2 back to v1.17.2: add-ons move forward through the catalog only',
      },
    ],
  },
  {
    it: 'reports every broken rule at once',
    from: { version: '1.31', nodePools: [{ name: 'general', instanceType: 'm6i.large' }] },
    to: { version: '1.33', nodePools: [{ name: 'general', instanceType: 'm6i.xlarge' }] },
    expect: [
      {
        field: 'spec.version',
        rule: 'version_skip',
        message: 'cannot go from 1.31 to 1.33 in one change: upgrade one minor version at a time (1.32 next)',
      },
      {
        field: 'spec.nodePools.0.instanceType',
        rule: 'replacement_requires_allow_replace',
        message: `changing instanceType of node pool "general" (m6i.large → m6i.xlarge) replaces the pool: its nodes are deleted and new ones created; ${ALLOW}`,
      },
    ],
  },
];

const gkeCases: Case[] = [
  { it: 'allows an upgrade of one minor version', from: { version: '1.33' }, to: { version: '1.34' }, expect: [] },
  {
    it: 'refuses skipping a minor version',
    from: { version: '1.32' },
    to: { version: '1.34' },
    expect: [
      {
        field: 'spec.version',
        rule: 'version_skip',
        message: 'cannot go from 1.32 to 1.34 in one change: upgrade one minor version at a time (1.33 next)',
      },
    ],
  },
  {
    it: 'allows a new machine type and disk size in place (GKE upgrades the nodes, the pool stays)',
    from: { nodePools: [{ name: 'general', machineType: 'e2-standard-4', diskSizeGb: 100 }] },
    to: { nodePools: [{ name: 'general', machineType: 'n2-standard-8', diskSizeGb: 200 }] },
    expect: [],
  },
  {
    it: 'refuses turning private nodes off without allowReplace',
    from: {},
    to: { privateNodes: { enabled: false } },
    expect: [
      {
        field: 'spec.privateNodes.enabled',
        rule: 'replacement_requires_allow_replace',
        message: `changing privateNodes.enabled (true → false) replaces the whole cluster, its node pools and everything running on it; ${ALLOW}`,
      },
    ],
  },
  {
    it: 'refuses another control plane range without allowReplace',
    from: {},
    to: { privateNodes: { masterCidr: '172.16.0.16/28' } },
    expect: [
      {
        field: 'spec.privateNodes.masterCidr',
        rule: 'replacement_requires_allow_replace',
        message: `changing privateNodes.masterCidr (172.16.0.0/28 → 172.16.0.16/28) replaces the whole cluster, its node pools and everything running on it; ${ALLOW}`,
      },
    ],
  },
  {
    it: 'refuses another project without allowReplace',
    from: {},
    to: { projectId: 'acme-prod-2' },
    expect: [
      {
        field: 'spec.projectId',
        rule: 'replacement_requires_allow_replace',
        message: `changing projectId (acme-prod → acme-prod-2) replaces the whole cluster, its node pools and everything running on it; ${ALLOW}`,
      },
    ],
  },
  {
    it: 'refuses making a pool spot without allowReplace',
    from: { nodePools: [{ name: 'system' }, { name: 'general' }] },
    to: { nodePools: [{ name: 'system' }, { name: 'general', spot: true }] },
    expect: [
      {
        field: 'spec.nodePools.1.spot',
        rule: 'replacement_requires_allow_replace',
        message: `changing spot of node pool "general" (false → true) replaces the pool: its nodes are deleted and new ones created; ${ALLOW}`,
      },
    ],
  },
  { it: 'accepts a replacement with allowReplace', from: {}, to: { region: 'europe-west4' }, allowReplace: true, expect: [] },
  { it: 'allows changing the release channel in place', from: {}, to: { releaseChannel: 'STABLE' }, expect: [] },
];

describe('a change to an eks cluster', () => {
  for (const c of eksCases) {
    it(c.it, () => assert.deepEqual(eksBp.validateChange!(eks(c.from), eks(c.to), { allowReplace: c.allowReplace ?? false }), c.expect));
  }
});

describe('a change to a gke cluster', () => {
  for (const c of gkeCases) {
    it(c.it, () => assert.deepEqual(gkeBp.validateChange!(gke(c.from), gke(c.to), { allowReplace: c.allowReplace ?? false }), c.expect));
  }
});

describe('a change from a spec stored by an older release', () => {
  it('reads the stored spec with the current defaults before comparing (a field it lacks is not a change)', () => {
    const stored = eks({}) as Record<string, any>;
    delete stored.logRetentionDays;
    delete stored.nodePools[0].spot;
    assert.deepEqual(eksBp.validateChange!(stored, eks({ version: '1.33' }), { allowReplace: false }), []);
  });
});

describe('a destroy', () => {
  for (const [name, bp, parse] of [
    ['eks', eksBp, eks],
    ['gke', gkeBp, gke],
  ] as const) {
    it(`of an ${name} cluster is refused while deletion protection is on`, () => {
      assert.deepEqual(bp.validateDestroy!(parse({})), [
        {
          field: 'spec.deletionProtection',
          rule: 'deletion_protection',
          message: 'is on: turn it off first (PATCH {"spec": {"deletionProtection": false}}), then destroy',
        },
      ]);
    });

    it(`of an ${name} cluster is allowed once the spec turns deletion protection off`, () => {
      assert.deepEqual(bp.validateDestroy!(parse({ deletionProtection: false })), []);
    });
  }
});
