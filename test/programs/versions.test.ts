import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { defaultEksVersion, defaultGkeVersion } from '../../programs/default-version.js';
import { EKS_CALENDAR, GKE_CALENDAR } from '../../programs/version-calendars.js';
import {
  EKS_ADDON_NAMES,
  EKS_ADDON_PINS,
  EKS_ADDON_VERSIONS,
  EKS_VERSIONS,
  GKE_VERSIONS,
  verifiedAddonPins,
} from '../../programs/versions.js';

const at = (iso: string) => Date.parse(iso);

describe('the EKS add-on pins', () => {
  it('pin the four add-ons for every version, each with a source, a confidence and a check date', () => {
    assert.deepEqual(Object.keys(EKS_ADDON_PINS), [...EKS_VERSIONS]);
    for (const version of EKS_VERSIONS) {
      for (const name of EKS_ADDON_NAMES) {
        const pin = EKS_ADDON_PINS[version][name];
        assert.match(pin.version, /^v\d+\.\d+\.\d+-eksbuild\.\d+$/, `${version} ${name}`);
        assert.match(pin.source, /^https:\/\/|^resolved by EKS/, `${version} ${name}`);
        assert.match(pin.checked, /^\d{4}-\d{2}-\d{2}$/, `${version} ${name}`);
      }
    }
  });

  it('give the program the plain versions', () => {
    assert.deepEqual(EKS_ADDON_VERSIONS['1.36'], {
      'vpc-cni': 'v1.22.4-eksbuild.3',
      coredns: 'v1.14.3-eksbuild.3',
      'kube-proxy': 'v1.36.0-eksbuild.14',
      'aws-ebs-csi-driver': 'v1.63.1-eksbuild.1',
    });
  });

  it('move vpc-cni at most one minor version between consecutive Kubernetes versions (EKS refuses a bigger step)', () => {
    const minor = (v: string) => Number(v.split('.')[1]);
    for (let i = 1; i < EKS_VERSIONS.length; i++) {
      const [before, after] = [EKS_VERSIONS[i - 1]!, EKS_VERSIONS[i]!];
      const step = minor(EKS_ADDON_PINS[after]['vpc-cni'].version) - minor(EKS_ADDON_PINS[before]['vpc-cni'].version);
      assert.ok(step === 0 || step === 1, `${before} → ${after}`);
    }
  });

  it('pin kube-proxy to the same minor version as Kubernetes', () => {
    for (const version of EKS_VERSIONS) assert.ok(EKS_ADDON_PINS[version]['kube-proxy'].version.startsWith(`v${version}.`), version);
  });

  it('are verified for every listed version, and not for a version without pins', () => {
    for (const version of EKS_VERSIONS) assert.equal(verifiedAddonPins(version), true, version);
    assert.equal(verifiedAddonPins('1.29'), false);
    assert.equal(verifiedAddonPins('1.37'), false);
  });

  it('are not verified while one pin of the version is only inferred, and the default then passes that version by', () => {
    const pin = EKS_ADDON_PINS['1.36']['vpc-cni'];
    const confidence = pin.confidence;
    try {
      pin.confidence = 'inferred';
      assert.equal(verifiedAddonPins('1.36'), false);
      assert.equal(defaultEksVersion(at('2026-11-30T00:00:00Z')), '1.35');
    } finally {
      pin.confidence = confidence;
    }
  });
});

describe('the default version of a new cluster', () => {
  it('is, on EKS, the newest version released and in standard support at the instant', () => {
    assert.equal(defaultEksVersion(at('2026-06-01T23:59:59.999Z')), '1.35');
    assert.equal(defaultEksVersion(at('2026-06-02T00:00:00Z')), '1.36');
    assert.equal(defaultEksVersion(at('2026-11-30T00:00:00Z')), '1.36');
    assert.equal(defaultEksVersion(at('2027-08-01T23:59:59.999Z')), '1.36');
  });

  it('falls back, on EKS, to the newest listed version once none is in standard support (1.36 then in extended support: the service refuses it without extended support)', () => {
    assert.equal(defaultEksVersion(at('2027-08-02T00:00:00Z')), '1.36');
    assert.equal(defaultEksVersion(at('2030-01-01T00:00:00Z')), '1.36');
  });

  it('is, on GKE, the newest version available in the Regular channel and in standard support, with the same fallback', () => {
    assert.equal(defaultGkeVersion(at('2026-06-08T00:00:00Z')), '1.35');
    assert.equal(defaultGkeVersion(at('2026-11-30T00:00:00Z')), '1.36');
    assert.equal(defaultGkeVersion(at('2027-08-09T00:00:00Z')), '1.36');
  });

  it('is always a version the schema accepts, and the calendars list every version the schemas accept', () => {
    for (let day = at('2024-01-01T00:00:00Z'); day < at('2029-01-01T00:00:00Z'); day += 7 * 86_400_000) {
      assert.ok((EKS_VERSIONS as readonly string[]).includes(defaultEksVersion(day)));
      assert.ok((GKE_VERSIONS as readonly string[]).includes(defaultGkeVersion(day)));
    }
    for (const v of EKS_VERSIONS)
      assert.ok(
        EKS_CALENDAR.some((e) => e.version === v),
        `EKS ${v}`,
      );
    for (const v of GKE_VERSIONS)
      assert.ok(
        GKE_CALENDAR.some((e) => e.version === v),
        `GKE ${v}`,
      );
  });
});
