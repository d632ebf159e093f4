import type { EngineEvent } from '@pulumi/pulumi/automation/index.js';
import { describe, expect, it } from 'vitest';
import { PolicyFindings } from '../../src/engine/policy-findings.js';

// Events as Pulumi CLI 3.259 wrote them in runs of the local-files blueprint with a policy pack
// (test/engine/policy-pack.pulumi.test.ts), the serialized dynamic provider shortened.
const STACK = 'urn:pulumi:s1::clusterd::pulumi:pulumi:Stack::clusterd-s1';
const CLUSTER = 'urn:pulumi:s1::clusterd::clusterd:local-files:Cluster$pulumi-nodejs:dynamic/local-files:Cluster::cluster';
const POOL = 'urn:pulumi:s1::clusterd::clusterd:local-files:Cluster$pulumi-nodejs:dynamic/local-files:NodePool::pool-big';
const pack = { policyPackName: 'local-files-guard', policyPackVersion: '0.1.0', policyPackVersionTag: '0.1.0' };
// A pack with a remediation and a stack policy, run once to see their events.
const otherPack = { policyPackName: 'remediate-pack', policyPackVersion: '0.2.0', policyPackVersionTag: '0.2.0' };

const event = (sequence: number, body: Record<string, unknown>) => ({ sequence, timestamp: 1796082170, ...body }) as unknown as EngineEvent;

const mandatoryEvent = event(37, {
  policyEvent: {
    resourceUrn: POOL,
    message: 'A node pool has at most `maxSize` nodes.\nnode pool big has 60 nodes; at most 50 are allowed\n',
    color: 'never',
    policyName: 'pool-size-limit',
    ...pack,
    enforcementLevel: 'mandatory',
  },
});
const advisoryEvent = event(24, {
  policyEvent: {
    resourceUrn: CLUSTER,
    message: 'A cluster carries an `owner` tag.\ncluster s1 has no owner tag\n',
    color: 'never',
    policyName: 'cluster-owner-tag',
    ...pack,
    enforcementLevel: 'advisory',
  },
});
const stackPolicyEvent = event(60, {
  policyEvent: {
    resourceUrn: STACK,
    message: 'At most one node pool.\nstack-level finding without urn\n',
    color: 'never',
    policyName: 'one-pool',
    ...otherPack,
    enforcementLevel: 'advisory',
  },
});
const remediationEvent = event(40, {
  policyRemediationEvent: {
    resourceUrn: CLUSTER,
    color: 'raw',
    policyName: 'owner-tag-default',
    ...otherPack,
    before: { __provider: 'exports.handler = __f0;…', delayMs: 0, failOn: '', name: 's1', tags: {}, version: '1.30' },
    after: { __provider: 'exports.handler = __f0;…', delayMs: 0, failOn: '', name: 's1', tags: { owner: 'platform' }, version: '1.30' },
  },
});
const otherPolicyEvents = [
  event(0, { policyLoadEvent: {} }),
  event(5, { policyRemediateSummaryEvent: { resourceUrn: STACK, ...pack, passed: ['cluster-owner-tag', 'pool-size-limit'] } }),
  event(38, { policyAnalyzeSummaryEvent: { resourceUrn: POOL, ...pack, passed: ['cluster-owner-tag'], failed: ['pool-size-limit'] } }),
  event(61, { policyAnalyzeStackSummaryEvent: { ...otherPack, failed: ['one-pool'] } }),
  event(62, {
    summaryEvent: {
      maybeCorrupt: false,
      durationSeconds: 1,
      resourceChanges: { create: 3 },
      PolicyPacks: { 'local-files-guard|local|/work/main/test/policy-packs/local-files-guard': '0.1.0' },
      isPreview: false,
      result: 'failed',
    },
  }),
];

const observed = (...events: EngineEvent[]) => {
  const findings = new PolicyFindings();
  events.forEach((e) => findings.observe(e));
  return findings;
};

describe('PolicyFindings', () => {
  it('turns a mandatory policy event into a violation naming pack, policy, resource and message', () => {
    expect(observed(mandatoryEvent).mandatory()).toEqual([
      {
        pack: 'local-files-guard',
        policy: 'pool-size-limit',
        resource: POOL,
        message: 'A node pool has at most `maxSize` nodes.\nnode pool big has 60 nodes; at most 50 are allowed',
        enforcement: 'mandatory',
      },
    ]);
  });

  it('sorts advisory findings, stack policies included, apart from the mandatory ones', () => {
    const findings = observed(advisoryEvent, mandatoryEvent, stackPolicyEvent);
    expect(findings.mandatory().map((f) => f.policy)).toEqual(['pool-size-limit']);
    expect(findings.advisory()).toEqual([
      expect.objectContaining({ policy: 'cluster-owner-tag', resource: CLUSTER, enforcement: 'advisory' }),
      expect.objectContaining({ policy: 'one-pool', resource: STACK, message: 'At most one node pool.\nstack-level finding without urn' }),
    ]);
    expect(findings.all().map((f) => f.policy)).toEqual(['cluster-owner-tag', 'pool-size-limit', 'one-pool']);
  });

  it('reports a remediation by the properties it changed, never their values', () => {
    expect(observed(remediationEvent).remediated()).toEqual([
      { pack: 'remediate-pack', policy: 'owner-tag-default', resource: CLUSTER, message: 'changed tags', enforcement: 'remediate' },
    ]);
  });

  it('counts a finding seen twice once', () => {
    expect(observed(mandatoryEvent, advisoryEvent, { ...mandatoryEvent, sequence: 90 }).all()).toHaveLength(2);
  });

  it('finds nothing in the load, summary and other events', () => {
    expect(observed(...otherPolicyEvents).all()).toEqual([]);
  });

  it("drops the colour markup of a coloured run and reads the SDK type's `warning` as advisory", () => {
    const coloured = event(1, {
      policyEvent: {
        message: '<{%fg 13%}>Needs an owner.<{%reset%}>\n\u001b[1mnone\u001b[0m\n',
        color: 'raw',
        policyName: 'p',
        ...pack,
        enforcementLevel: 'warning',
      },
    });
    expect(observed(coloured).advisory()).toEqual([
      { pack: 'local-files-guard', policy: 'p', resource: null, message: 'Needs an owner.\nnone', enforcement: 'advisory' },
    ]);
  });
});
