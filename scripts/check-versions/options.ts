/** The command line of `npm run check:versions`. */
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run check:versions -- [--max-age 90d] [--horizon 30d] [--offline] [--gke-region us-central1] [--json]
  --max-age     a check date older than this is due (days, "90d" or "90")
  --horizon     a support date closer than this is reported as soon (days)
  --offline     read the tables only; ask no provider
  --gke-region  the region gcloud describes the GKE versions of
  --json        print the findings as JSON
exit status: 0 when nothing is due, 1 when something is, 2 on a usage error`;

export interface CheckOptions {
  /** A `checked` date more than this many days old is due. @defaultValue 90 */
  maxAgeDays: number;
  /** A support date at most this many days ahead is reported as soon. @defaultValue 30 */
  horizonDays: number;
  /** Ask no provider. @defaultValue false */
  offline: boolean;
  /** The region `gcloud container get-server-config` reads. @defaultValue `us-central1` */
  gkeRegion: string;
  /** Print JSON instead of the table. @defaultValue false */
  json: boolean;
  help: boolean;
}

/** A wrong command line; the message names the flag. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export function parseOptions(argv: readonly string[]): CheckOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'max-age': { type: 'string', default: '90d' },
        horizon: { type: 'string', default: '30d' },
        offline: { type: 'boolean', default: false },
        'gke-region': { type: 'string', default: 'us-central1' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    maxAgeDays: days('--max-age', values['max-age']),
    horizonDays: days('--horizon', values.horizon),
    offline: values.offline,
    gkeRegion: values['gke-region'],
    json: values.json,
    help: values.help,
  };
}

function days(flag: string, value: string): number {
  const match = /^(\d{1,4})d?$/.exec(value);
  if (!match) throw new UsageError(`${flag} must be a whole number of days, as 90d (got "${value}")`);
  return Number(match[1]);
}
