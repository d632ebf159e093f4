/**
 * Asks the providers themselves, where this machine can: the AWS CLI with working credentials, a
 * configured gcloud, the chart repositories over HTTPS. Each source that cannot be read is skipped
 * with one line saying why: the first line of the command's error, never its output (the caller
 * identity, a token).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddonPin } from '../../programs/versions.js';
import type { VersionCalendarEntry } from '../../src/domain/version-support.js';
import { compareChart, compareChartTags, compareEksAddon, compareEksCalendar, compareGkeCalendar } from './compare.js';
import type { ChartEntry, Finding } from './findings.js';

/** What one provider said: findings, and a line for each source that was skipped. */
export interface ProviderResult {
  findings: Finding[];
  skipped: string[];
}

const execFileAsync = promisify(execFile);

/** A source could not be read; the message says why in one line. */
export class SourceUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Runs a command without a shell and returns its standard output. */
async function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  try {
    // AWS_PAGER: the AWS CLI v2 would otherwise wait on a pager where it thinks it has a terminal.
    const { stdout } = await execFileAsync(command, args, {
      timeout: timeoutMs,
      maxBuffer: 64 << 20,
      env: { ...process.env, AWS_PAGER: '' },
    });
    return stdout;
  } catch (error) {
    throw new SourceUnavailable(`${command} ${args.slice(0, 2).join(' ')}: ${whyFailed(error, timeoutMs)}`, { cause: error });
  }
}

function whyFailed(error: unknown, timeoutMs: number): string {
  const e = error as { code?: unknown; killed?: boolean; stderr?: string; message?: string };
  if (e.code === 'ENOENT') return 'not on PATH';
  if (e.killed) return `no answer within ${timeoutMs / 1000} s`;
  // The first line only: enough to say what went wrong (no credentials, no region, no project).
  const line = (e.stderr || e.message || String(error)).trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

async function json(command: string, args: string[], timeoutMs: number): Promise<unknown> {
  const output = await run(command, args, timeoutMs);
  try {
    return JSON.parse(output);
  } catch (error) {
    // JSON.parse quotes the text it failed on: say so without it.
    throw new SourceUnavailable(`${command} ${args.slice(0, 2).join(' ')}: answered something other than JSON`, { cause: error });
  }
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The EKS calendar and every pin, when the AWS CLI is on PATH and its credentials work. */
export async function checkEks(
  calendar: readonly VersionCalendarEntry[],
  pins: Readonly<Record<string, Readonly<Record<string, AddonPin>>>>,
  today: string,
): Promise<ProviderResult> {
  const result: ProviderResult = { findings: [], skipped: [] };
  try {
    await run('aws', ['sts', 'get-caller-identity', '--output', 'json'], 10_000);
  } catch (error) {
    result.skipped.push(`EKS (aws): ${reasonOf(error)}`);
    return result;
  }
  try {
    result.findings.push(
      ...compareEksCalendar(calendar, await json('aws', ['eks', 'describe-cluster-versions', '--output', 'json'], 30_000), today),
    );
  } catch (error) {
    result.skipped.push(`EKS versions: ${reasonOf(error)}`);
  }
  // Versions out of support are left out (EKS offers nothing for them); one Kubernetes version at a
  // time, its add-ons together; the first failure (a missing permission, a throttle) skips the rest.
  const supported = Object.entries(pins).filter(
    ([version]) => !calendar.some((r) => r.version === version && r.endOfExtendedSupport <= today),
  );
  try {
    for (const [version, addons] of supported) {
      const compared = await Promise.all(
        Object.entries(addons).map(async ([addon, pin]) => {
          const args = ['eks', 'describe-addon-versions', '--kubernetes-version', version, '--addon-name', addon, '--output', 'json'];
          return compareEksAddon(version, addon, pin, await json('aws', args, 30_000));
        }),
      );
      result.findings.push(...compared.flat());
    }
  } catch (error) {
    result.skipped.push(`EKS add-on pins: ${reasonOf(error)}`);
  }
  return result;
}

/** The GKE calendar, when gcloud is on PATH and configured (an account and a project). */
export async function checkGke(calendar: readonly VersionCalendarEntry[], region: string, today: string): Promise<ProviderResult> {
  try {
    const answer = await json('gcloud', ['container', 'get-server-config', '--format=json', `--region=${region}`], 60_000);
    return { findings: compareGkeCalendar(calendar, answer, today), skipped: [] };
  } catch (error) {
    return { findings: [], skipped: [`GKE (gcloud): ${reasonOf(error)}`] };
  }
}

const HTTP_TIMEOUT_MS = 5_000;

/** Each catalog entry against its repository's index.yaml, or its OCI registry's tag list. */
export async function checkCharts(charts: readonly ChartEntry[]): Promise<ProviderResult> {
  const results = await Promise.all(
    charts.map(async (entry): Promise<ProviderResult> => {
      try {
        const oci = [entry.chart, entry.repo].find((r) => r.startsWith('oci://'));
        const findings = oci ? compareChartTags(entry, await ociTags(oci)) : compareChart(entry, await chartIndex(entry.repo));
        return { findings, skipped: [] };
      } catch (error) {
        return { findings: [], skipped: [`chart ${entry.chart}: ${reasonOf(error)}`] };
      }
    }),
  );
  return { findings: results.flatMap((r) => r.findings), skipped: results.flatMap((r) => r.skipped) };
}

async function chartIndex(repo: string): Promise<string> {
  const url = new URL('index.yaml', repo.endsWith('/') ? repo : `${repo}/`).href;
  const response = await get(url);
  if (!response.ok) throw new SourceUnavailable(`${url}: HTTP ${response.status}`);
  return response.text();
}

/**
 * The tags of `oci://host/name` by the OCI distribution API, with the anonymous pull token the
 * registry's challenge asks for. The first page only: a thousand tags reach well past any chart's
 * newest version.
 */
async function ociTags(reference: string): Promise<unknown> {
  const { host, pathname } = new URL(reference.replace(/^oci:\/\//, 'https://'));
  // Docker Hub serves the registry API under another name than its references use.
  const url = `https://${host === 'docker.io' ? 'registry-1.docker.io' : host}/v2${pathname}/tags/list?n=1000`;
  let response = await get(url);
  const challenge = response.status === 401 ? response.headers.get('www-authenticate') : null;
  if (challenge?.startsWith('Bearer ')) {
    const params = new Map([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const tokenUrl = new URL(params.get('realm') ?? '');
    tokenUrl.searchParams.set('service', params.get('service') ?? host);
    tokenUrl.searchParams.set('scope', params.get('scope') ?? `repository:${pathname.slice(1)}:pull`);
    const granted = (await (await get(tokenUrl.href)).json()) as { token?: string; access_token?: string };
    response = await get(url, { authorization: `Bearer ${granted.token ?? granted.access_token ?? ''}` });
  }
  if (!response.ok) throw new SourceUnavailable(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  try {
    return await fetch(url, { headers, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (error) {
    const e = error as { name?: string; cause?: { code?: string; message?: string }; message?: string };
    const why =
      e.name === 'TimeoutError' ? `no answer within ${HTTP_TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new SourceUnavailable(`${url}: ${why}`, { cause: error });
  }
}
