import { describe, expect, it } from 'vitest';
import { newestInStandardSupport, nextListedVersion, supportOf } from '../../src/domain/version-support.js';
import type { VersionCalendarEntry } from '../../src/domain/version-support.js';
import { EKS_CALENDAR, GKE_CALENDAR } from '../../programs/version-calendars.js';

const at = (iso: string) => Date.parse(iso);

describe('support calendars', () => {
  it('says standard, extended or unsupported, each from the start of its day in UTC', () => {
    // EKS 1.34: standard support to 2026-12-02, extended to 2027-12-02.
    expect(supportOf(EKS_CALENDAR, '1.34', at('2026-11-30T12:00:00Z'))).toEqual({
      version: '1.34',
      status: 'standard',
      endOfStandardSupport: '2026-12-02',
      endOfExtendedSupport: '2027-12-02',
    });
    expect(supportOf(EKS_CALENDAR, '1.34', at('2026-12-01T23:59:59.999Z'))?.status).toBe('standard');
    expect(supportOf(EKS_CALENDAR, '1.34', at('2026-12-02T00:00:00Z'))?.status).toBe('extended');
    expect(supportOf(EKS_CALENDAR, '1.34', at('2027-12-02T00:00:00Z'))?.status).toBe('unsupported');
    // Where the issue found the fleet: 1.31 past extended support, 1.32 and 1.33 in it.
    const today = at('2026-11-30T00:00:00Z');
    expect(['1.30', '1.31', '1.32', '1.33', '1.35'].map((v) => supportOf(EKS_CALENDAR, v, today)?.status)).toEqual([
      'unsupported',
      'unsupported',
      'extended',
      'extended',
      'standard',
    ]);
    expect(supportOf(EKS_CALENDAR, '1.99', today)).toBeNull();
  });

  it('moves the newest version in standard support as dates pass, among the versions a blueprint can use', () => {
    expect(newestInStandardSupport(EKS_CALENDAR, at('2026-11-30T00:00:00Z'))).toBe('1.36');
    // Without pins for 1.35 and 1.36, the default is 1.34 until its standard support ends, then none is left.
    const pinned = (v: string) => ['1.32', '1.33', '1.34'].includes(v);
    expect(newestInStandardSupport(EKS_CALENDAR, at('2026-11-30T00:00:00Z'), pinned)).toBe('1.34');
    expect(newestInStandardSupport(EKS_CALENDAR, at('2026-12-02T00:00:00Z'), pinned)).toBeNull();
    // A version is offered from its release on.
    expect(newestInStandardSupport(EKS_CALENDAR, at('2026-06-01T00:00:00Z'))).toBe('1.35');
    expect(newestInStandardSupport(EKS_CALENDAR, at('2026-06-02T00:00:00Z'))).toBe('1.36');
    expect(newestInStandardSupport(GKE_CALENDAR, at('2026-11-30T00:00:00Z'))).toBe('1.36');
  });

  it('names the next listed minor version', () => {
    expect(nextListedVersion(EKS_CALENDAR, '1.34')).toBe('1.35');
    expect(nextListedVersion(EKS_CALENDAR, '1.36')).toBeNull();
  });

  it('keeps each table whole: versions in order, each date after the one before, a source and a check date on every row', () => {
    for (const calendar of [EKS_CALENDAR, GKE_CALENDAR] as const) {
      calendar.forEach((e: VersionCalendarEntry, i) => {
        expect(e.released < e.endOfStandardSupport && e.endOfStandardSupport < e.endOfExtendedSupport, e.version).toBe(true);
        for (const day of [e.released, e.endOfStandardSupport, e.endOfExtendedSupport, e.checked])
          expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(e.source).toMatch(/^https:\/\//);
        if (i > 0) expect(Number(e.version.split('.')[1])).toBe(Number(calendar[i - 1]!.version.split('.')[1]) + 1);
      });
    }
  });
});
