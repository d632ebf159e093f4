/** The findings as a table grouped by kind, or as JSON; the exit status they call for. */
import { FINDING_KINDS, SEVERITIES, type Finding, type Severity } from './findings.js';

export interface Report {
  /** The day the tables were judged on, `YYYY-MM-DD`. */
  today: string;
  horizonDays: number;
  maxAgeDays: number;
  findings: Finding[];
  /** One line per provider source that could not be read, saying why. */
  skipped: string[];
}

export type Summary = Record<Severity, number>;

export function summaryOf(findings: readonly Finding[]): Summary {
  const summary: Summary = { due: 0, soon: 0, note: 0 };
  for (const f of findings) summary[f.severity] += 1;
  return summary;
}

/** 1 when anything is due, so that a scheduled job fails; 0 otherwise. */
export const exitCodeOf = (findings: readonly Finding[]): 0 | 1 => (findings.some((f) => f.severity === 'due') ? 1 : 0);

const bySeverity = (a: Finding, b: Finding) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity);

export function renderText(report: Report): string {
  const width = Math.max(0, ...report.findings.map((f) => f.subject.length));
  const lines = [
    `Version tables on ${report.today}: dates within ${report.horizonDays} days are soon, checks older than ${report.maxAgeDays} days are due.`,
  ];
  for (const kind of FINDING_KINDS) {
    const found = report.findings.filter((f) => f.kind === kind).sort(bySeverity);
    lines.push('', kind);
    if (found.length === 0) lines.push('  nothing to report');
    for (const f of found) lines.push(`  ${f.severity.padEnd(4)}  ${f.subject.padEnd(width)}  ${f.message}`);
  }
  if (report.skipped.length > 0) lines.push('', ...report.skipped.map((s) => `skipped: ${s}`));
  const s = summaryOf(report.findings);
  const next = s.due > 0 ? ': refresh the tables (docs/versions.md, "Refreshing the tables")' : '';
  lines.push(
    '',
    `${s.due} due, ${s.soon} soon, ${s.note} to note, ${report.skipped.length} ${report.skipped.length === 1 ? 'source' : 'sources'} skipped${next}`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: Report): string {
  return `${JSON.stringify({ ...report, summary: summaryOf(report.findings) }, null, 2)}\n`;
}
