/**
 * `npm run check:versions`: what in the version tables (support calendars, EKS add-on pins, the
 * Helm catalog) is past a date or checked too long ago, then, where this machine can ask them, what
 * the providers say differently. Exits 1 when anything is due, so that a scheduled job fails.
 * See docs/versions.md, "Refreshing the tables".
 */
import { ADDON_CATALOG } from '../../programs/addon-catalog.js';
import { EKS_CALENDAR, GKE_CALENDAR } from '../../programs/version-calendars.js';
import { EKS_ADDON_PINS } from '../../programs/versions.js';
import { findingsOf, type VersionTables } from './findings.js';
import { parseOptions, USAGE, UsageError, type CheckOptions } from './options.js';
import { checkCharts, checkEks, checkGke } from './providers.js';
import { exitCodeOf, renderJson, renderText, type Report } from './report.js';

const tables: VersionTables = {
  calendars: { EKS: EKS_CALENDAR, GKE: GKE_CALENDAR },
  eksAddonPins: EKS_ADDON_PINS,
  charts: Object.values(ADDON_CATALOG),
};

async function check(options: CheckOptions): Promise<Report> {
  const today = new Date().toISOString().slice(0, 10);
  const findings = findingsOf(tables, { today, ...options });
  const skipped: string[] = [];
  if (options.offline) skipped.push('providers: --offline');
  else
    for (const provided of await Promise.all([
      checkEks(tables.calendars.EKS, tables.eksAddonPins, today),
      checkGke(tables.calendars.GKE, options.gkeRegion, today),
      checkCharts(tables.charts),
    ])) {
      findings.push(...provided.findings);
      skipped.push(...provided.skipped);
    }
  return { today, horizonDays: options.horizonDays, maxAgeDays: options.maxAgeDays, findings, skipped };
}

let options: CheckOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`${error.message}\n${USAGE}\n`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(`${USAGE}\n`);
} else {
  const report = await check(options);
  process.stdout.write(options.json ? renderJson(report) : renderText(report));
  process.exitCode = exitCodeOf(report.findings);
}
