import { describe, expect, it } from 'vitest';
import type { MaintenancePolicy } from '../../src/domain/maintenance.js';
import { maintenancePolicySchema } from '../../src/maintenance/policy-schema.js';
import { maintenanceState, openIntervals } from '../../src/maintenance/window-schedule.js';

const at = (iso: string) => Date.parse(iso);
const policy = (over: Partial<MaintenancePolicy>): MaintenancePolicy => ({ windows: [], exclusions: [], ...over });
const weekend = { days: ['sat', 'sun'] as const, start: '02:00', duration: '4h', timezone: 'Europe/Paris' };

describe('maintenanceState', () => {
  it('is always open without a policy, and with a policy that has neither windows nor exclusions', () => {
    expect(maintenanceState(null, at('2026-11-30T12:00:00Z'))).toEqual({ open: true, closesAt: null });
    expect(maintenanceState(policy({}), at('2026-11-30T12:00:00Z'))).toEqual({ open: true, closesAt: null });
  });

  it('opens a weekly window on its days at its local time, and says when it closes', () => {
    const p = policy({ windows: [{ ...weekend, days: ['sat', 'sun'] }] });
    // Saturday 5 December 2026, 02:30 in Paris (UTC+1 in winter) is 01:30 UTC.
    expect(maintenanceState(p, at('2026-12-05T01:30:00Z'))).toEqual({ open: true, closesAt: '2026-12-05T05:00:00.000Z' });
    // Monday: closed until Saturday 02:00 Paris.
    expect(maintenanceState(p, at('2026-11-30T12:00:00Z'))).toEqual({
      open: false,
      waitingFor: { reason: 'maintenance-window', next: '2026-12-05T01:00:00.000Z', detail: 'outside every maintenance window' },
    });
    // The instant it closes is closed; the next opening is Sunday's.
    const closed = maintenanceState(p, at('2026-12-05T05:00:00Z'));
    expect(closed.open === false && closed.waitingFor.next).toBe('2026-12-06T01:00:00.000Z');
  });

  it('keeps the local time across daylight-saving changes', () => {
    const p = policy({ windows: [{ days: ['sun'], start: '02:30', duration: '1h', timezone: 'Europe/Paris' }] });
    // Summer (UTC+2): Sunday 28 June 2026, 02:30 Paris = 00:30 UTC.
    const summer = maintenanceState(p, at('2026-06-27T12:00:00Z'));
    expect(summer.open === false && summer.waitingFor.next).toBe('2026-06-28T00:30:00.000Z');
    // Winter (UTC+1): Sunday 6 December 2026, 02:30 Paris = 01:30 UTC.
    const winter = maintenanceState(p, at('2026-12-05T12:00:00Z'));
    expect(winter.open === false && winter.waitingFor.next).toBe('2026-12-06T01:30:00.000Z');
    // 29 March 2026: 02:30 does not exist in Paris (02:00 -> 03:00); the window opens at the first valid time.
    const gap = maintenanceState(p, at('2026-03-28T12:00:00Z'));
    expect(gap.open === false && gap.waitingFor.next).toBe('2026-03-29T01:30:00.000Z');
  });

  it('runs a window across midnight into the next day', () => {
    const p = policy({ windows: [{ days: ['fri'], start: '22:00', duration: '6h', timezone: 'UTC' }] });
    expect(maintenanceState(p, at('2026-12-05T03:59:59Z')).open).toBe(true);
    expect(maintenanceState(p, at('2026-12-05T04:00:00Z')).open).toBe(false);
  });

  it('joins overlapping windows, so that an open stretch closes at the end of the last', () => {
    const p = policy({
      windows: [
        { days: ['mon'], start: '01:00', duration: '2h', timezone: 'UTC' },
        { days: ['mon'], start: '02:00', duration: '2h', timezone: 'UTC' },
      ],
    });
    expect(maintenanceState(p, at('2026-11-30T01:30:00Z'))).toEqual({ open: true, closesAt: '2026-11-30T04:00:00.000Z' });
  });

  it('closes a window during an exclusion, names it, and opens again at its end when the window still runs', () => {
    const p = policy({
      windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', duration: '1d', timezone: 'UTC' }],
      exclusions: [{ start: '2026-12-24T00:00:00Z', end: '2026-12-26T12:00:00Z', reason: 'holiday freeze' }],
    });
    expect(maintenanceState(p, at('2026-12-25T10:00:00Z'))).toEqual({
      open: false,
      waitingFor: { reason: 'maintenance-window', next: '2026-12-26T12:00:00.000Z', detail: 'maintenance exclusion: holiday freeze' },
    });
    expect(maintenanceState(p, at('2026-12-23T23:00:00Z'))).toEqual({ open: true, closesAt: '2026-12-24T00:00:00.000Z' });
  });

  it('with exclusions only, is open everywhere else', () => {
    const p = policy({ exclusions: [{ start: '2026-12-01T00:00:00Z', end: '2026-12-01T00:00:05Z', reason: 'short' }] });
    expect(maintenanceState(p, at('2026-11-30T23:59:59Z'))).toEqual({ open: true, closesAt: '2026-12-01T00:00:00.000Z' });
    expect(maintenanceState(p, at('2026-12-01T00:00:02Z')).open).toBe(false);
    expect(maintenanceState(p, at('2026-12-01T00:00:05Z'))).toEqual({ open: true, closesAt: null });
  });

  it('skips a week whose window a freeze covers, and says so when nothing opens within a year', () => {
    const p = policy({
      windows: [{ ...weekend, days: ['sat'] }],
      exclusions: [{ start: '2026-12-01T00:00:00Z', end: '2026-12-10T00:00:00Z', reason: 'release' }],
    });
    const skipped = maintenanceState(p, at('2026-11-30T12:00:00Z'));
    expect(skipped.open === false && skipped.waitingFor.next).toBe('2026-12-12T01:00:00.000Z');
    const frozen = policy({
      windows: [{ ...weekend, days: ['sat'] }],
      exclusions: [{ start: '2026-01-01T00:00:00Z', end: '2028-01-01T00:00:00Z', reason: 'forever' }],
    });
    expect(maintenanceState(frozen, at('2026-11-30T12:00:00Z'))).toEqual({
      open: false,
      waitingFor: { reason: 'maintenance-window', next: null, detail: 'maintenance exclusion: forever' },
    });
  });

  it('windows a few seconds wide open and close at the second', () => {
    const p = policy({ windows: [{ days: ['mon'], start: '12:00:10', duration: '5s', timezone: 'UTC' }] });
    expect(maintenanceState(p, at('2026-11-30T12:00:09.999Z')).open).toBe(false);
    expect(maintenanceState(p, at('2026-11-30T12:00:10Z'))).toEqual({ open: true, closesAt: '2026-11-30T12:00:15.000Z' });
    expect(openIntervals(p, at('2026-11-30T00:00:00Z'), at('2026-12-15T00:00:00Z'))).toHaveLength(3);
  });
});

describe('maintenancePolicySchema', () => {
  const issues = (body: unknown) => {
    const r = maintenancePolicySchema.safeParse(body);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes a policy as the issue writes it', () => {
    expect(
      issues({ windows: [weekend], exclusions: [{ start: '2026-12-20T00:00:00+01:00', end: '2027-01-04T00:00:00Z', reason: 'freeze' }] }),
    ).toEqual([]);
  });

  it('names the field and the rule of every bad value', () => {
    expect(issues({ windows: [{ ...weekend, timezone: 'Mars/Olympus' }] })).toEqual([
      'windows.0.timezone: must be an IANA time zone like Europe/Paris or UTC',
    ]);
    expect(issues({ windows: [{ ...weekend, start: '24:00' }] })).toEqual([
      'windows.0.start: must be a local time of day like 02:00 or 02:00:30',
    ]);
    expect(issues({ windows: [{ ...weekend, duration: '8d' }] })).toEqual(['windows.0.duration: must be at most 7d']);
    expect(issues({ windows: [{ ...weekend, days: ['sat', 'sat'] }] })).toEqual(['windows.0.days: must not name a day twice']);
    expect(issues({ windows: [{ ...weekend, days: [] }] })).toEqual(['windows.0.days: must name at least one day']);
    expect(issues({ exclusions: [{ start: '2026-12-02T00:00:00Z', end: '2026-12-01T00:00:00Z', reason: 'x' }] })).toEqual([
      'exclusions.0.end: must be after start',
    ]);
    expect(issues({ windows: [], extra: 1 })).toHaveLength(1);
  });
});
