import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { eksSpecSchema, gkeSpecSchema, builtInBlueprints } from '../../programs/index.js';

const eksBp = builtInBlueprints.find((b) => b.name === 'eks')!;
const gkeBp = builtInBlueprints.find((b) => b.name === 'gke')!;
const teamRoleArn = 'arn:aws:iam::123456789012:role/payments-admins';
// Explicit versions: the schemas' defaults move with the calendar.
const eks = (spec: Record<string, unknown>) =>
  eksSpecSchema.parse({ region: 'eu-west-1', access: { teamRoleArn }, version: '1.35', ...spec });
const gke = (spec: Record<string, unknown>) =>
  gkeSpecSchema.parse({
    projectId: 'acme-prod',
    region: 'europe-west1',
    access: { teamGroup: 'payments@acme.example' },
    version: '1.35',
    ...spec,
  });

interface Case {
  it: string;
  from: Record<string, unknown>;
  to: Record<string, unknown>;
  allowReplace?: boolean;
  expect: Array<{ field: string; rule: string; message: string }>;
}

const ALLOW = 'pass "allowReplace": true to accept';
const RETIRED =
  'ingress-nginx is retired since 2026-03-24 (Kubernetes SIG Network retired ingress-nginx in March 2026: no releases or security fixes since); use envoyGateway instead';

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
    it: 'allows moving cert-manager one minor version forward',
    from: { addons: { certManager: { version: 'v1.18.2' } } },
    to: { addons: { certManager: { version: 'v1.19.6' } } },
    expect: [],
  },
  {
    it: 'refuses cert-manager skipping minor versions (the project supports one at a time)',
    from: { addons: { certManager: { version: 'v1.18.2' } } },
    to: { addons: { certManager: { version: 'v1.21.1' } } },
    expect: [
      {
        field: 'spec.addons.certManager.version',
        rule: 'addon_skip',
        message: 'cannot go from v1.18.2 to v1.21.1 in one change: cert-manager upgrades one minor version at a time (v1.19.6 next)',
      },
    ],
  },
  {
    it: 'allows installing cert-manager at any catalog version when it was not installed',
    from: { addons: { certManager: { enabled: false, version: 'v1.18.2' } } },
    to: { addons: { certManager: { enabled: true, version: 'v1.21.1' } } },
    expect: [],
  },
  {
    it: 'allows skipping metrics-server chart versions (no such rule for it)',
    from: { addons: { metricsServer: { version: '3.12.2' } } },
    to: { addons: { metricsServer: { version: '3.13.1' } } },
    expect: [],
  },
  {
    it: 'refuses enabling the retired ingress-nginx',
    from: {},
    to: { addons: { ingressNginx: { enabled: true } } },
    expect: [{ field: 'spec.addons.ingressNginx.enabled', rule: 'addon_retired', message: RETIRED }],
  },
  {
    it: 'allows a cluster to keep ingress-nginx, and to patch it',
    from: { addons: { ingressNginx: { enabled: true, version: '4.12.1' } } },
    to: { addons: { ingressNginx: { enabled: true, version: '4.13.0' } } },
    expect: [],
  },
  {
    it: 'allows a cluster to remove ingress-nginx and enable Envoy Gateway',
    from: { addons: { ingressNginx: { enabled: true } } },
    to: { addons: { ingressNginx: { enabled: false }, envoyGateway: { enabled: true } } },
    expect: [],
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
  {
    it: 'refuses enabling the retired ingress-nginx',
    from: {},
    to: { addons: { ingressNginx: { enabled: true } } },
    expect: [{ field: 'spec.addons.ingressNginx.enabled', rule: 'addon_retired', message: RETIRED }],
  },
  {
    it: 'allows a cluster to keep ingress-nginx unchanged',
    from: { addons: { ingressNginx: { enabled: true } } },
    to: { addons: { ingressNginx: { enabled: true } } },
    expect: [],
  },
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

describe('a new cluster', () => {
  for (const [name, bp, parse] of [
    ['eks', eksBp, eks],
    ['gke', gkeBp, gke],
  ] as const) {
    it(`on ${name} may not enable the retired ingress-nginx`, () => {
      assert.deepEqual(bp.validateCreate!(parse({ addons: { ingressNginx: { enabled: true } } })), [
        { field: 'spec.addons.ingressNginx.enabled', rule: 'addon_retired', message: RETIRED },
      ]);
    });

    it(`on ${name} may enable Envoy Gateway, and gets no retired add-on by default`, () => {
      assert.deepEqual(bp.validateCreate!(parse({ addons: { envoyGateway: { enabled: true } } })), []);
      assert.deepEqual(bp.validateCreate!(parse({})), []);
    });
  }
});

describe('the retired parts of a cluster (fleet view)', () => {
  it('name ingress-nginx while it is enabled, with its replacement', () => {
    assert.deepEqual(eksBp.retiredParts!(eks({ addons: { ingressNginx: { enabled: true } } })), [
      {
        field: 'addons.ingressNginx',
        name: 'ingress-nginx',
        since: '2026-03-24',
        reason: 'Kubernetes SIG Network retired ingress-nginx in March 2026: no releases or security fixes since',
        replacedBy: 'addons.envoyGateway',
      },
    ]);
  });

  it('are none once it is removed, or on a stored spec without add-ons', () => {
    assert.deepEqual(gkeBp.retiredParts!(gke({ addons: { ingressNginx: { enabled: false } } })), []);
    assert.deepEqual(gkeBp.retiredParts!({ ...gke({}), addons: undefined }), []);
  });
});

describe('a change from a spec stored by an older release', () => {
  it('reads the stored spec with the current defaults before comparing (a field it lacks is not a change)', () => {
    const stored = eks({ version: '1.33' }) as Record<string, any>;
    delete stored.logRetentionDays;
    delete stored.nodePools[0].spot;
    delete stored.addons.envoyGateway;
    assert.deepEqual(eksBp.validateChange!(stored, eks({ version: '1.33' }), { allowReplace: false }), []);
  });

  it('counts an add-on the stored spec lacks as not enabled: turning on a retired one is refused', () => {
    const stored = eks({}) as Record<string, any>;
    delete stored.addons.ingressNginx;
    assert.deepEqual(eksBp.validateChange!(stored, eks({ addons: { ingressNginx: { enabled: true } } }), { allowReplace: false }), [
      { field: 'spec.addons.ingressNginx.enabled', rule: 'addon_retired', message: RETIRED },
    ]);
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
