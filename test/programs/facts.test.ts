import { describe, expect, it } from 'vitest';
import { eksBlueprint, eksSpecSchema, gkeBlueprint, gkeSpecSchema } from '../../programs/index.js';

describe('the facts the built-in blueprints declare', () => {
  it('gives region, version, endpoint and pools of an eks spec, a pool without a desired size at its minimum', () => {
    const spec = eksSpecSchema.parse({
      region: 'eu-west-1',
      version: '1.35',
      endpoint: { access: 'public', publicCidrs: ['203.0.113.0/24'] },
      access: { teamRoleArn: 'arn:aws:iam::123456789012:role/team' },
      nodePools: [{ name: 'general', instanceType: 'm6i.xlarge', minSize: 2, maxSize: 6 }],
    });
    expect(eksBlueprint.facts!(spec)).toEqual({
      region: 'eu-west-1',
      version: '1.35',
      endpoint: { public: true, publicCidrs: ['203.0.113.0/24'] },
      nodePools: [{ name: 'general', instanceType: 'm6i.xlarge', minSize: 2, maxSize: 6, desiredSize: 2 }],
    });
  });

  it('gives the machine type of a gke pool, and a private endpoint as not public', () => {
    const spec = gkeSpecSchema.parse({
      projectId: 'acme-prod',
      region: 'europe-west1',
      version: '1.35',
      endpoint: { access: 'private' },
      access: { teamGroup: 'team@acme.example' },
      nodePools: [{ name: 'general', machineType: 'e2-standard-8', minSize: 1, maxSize: 4, desiredSize: 3 }],
    });
    expect(gkeBlueprint.facts!(spec)).toMatchObject({
      region: 'europe-west1',
      endpoint: { public: false, publicCidrs: null },
      nodePools: [{ name: 'general', instanceType: 'e2-standard-8', minSize: 1, maxSize: 4, desiredSize: 3 }],
    });
  });
});
