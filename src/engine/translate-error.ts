import type { OperationError } from '../domain/operation.js';

/** What the engine saw during a run, besides the thrown error, to explain a failure. */
export interface FailureContext {
  /** Error diagnostics from the engine event stream, in order. */
  diagnostics: Array<{ urn?: string; message: string }>;
  /** Strings that must never appear in an error (passphrase, secret spec values). */
  redact: string[];
}

/** Longest `detail` handed back; the full output stays in the operation's log events. */
export const MAX_DETAIL_CHARS = 500;

// ANSI escapes and the CLI's own colour markup (`<{%reset%}>`).
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|<\{%[a-z-]*%\}>/g;

/**
 * Turns an Automation API failure into an error a person can act on. Never returns the raw CLI dump:
 * only the first meaningful line of the relevant message, without colours, secrets redacted.
 */
export function translateError(err: unknown, ctx: FailureContext): OperationError {
  const name = err instanceof Error ? err.name : '';
  const raw = err instanceof Error ? err.message : String(err);
  const text = clean(raw, ctx.redact);

  if (name === 'ConcurrentUpdateError' || /the stack is currently locked by|Another update is currently in progress/i.test(text)) {
    const holder = /created by (\S+) \(pid (\d+)\) at (\S+)/.exec(text);
    return {
      code: 'stack-locked',
      title: 'The stack is locked by another update',
      detail: limit(
        (holder ? `Locked since ${holder[3]} by ${holder[1]} (pid ${holder[2]}). ` : 'Another update holds the lock. ') +
          'If no other operation is running on this cluster, its previous run died: run it again with recovery to break the lock.',
      ),
    };
  }
  if (name === 'StackNotFoundError' || /no stack named .* found/i.test(text)) {
    return {
      code: 'stack-not-found',
      title: 'The cluster has no Pulumi stack',
      detail: limit(firstLine(text, /no stack named.*/i) ?? text),
    };
  }
  // Plugin and credential problems surface in the provider's diagnostics as often as in the CLI's stderr.
  const everything = [text, ...ctx.diagnostics.map((d) => clean(d.message, ctx.redact))].join('\n');
  const plugin = missingPlugin(everything);
  if (plugin) {
    const install = `pulumi plugin install resource ${plugin.name}${plugin.version ? ` ${plugin.version}` : ''}`;
    return {
      code: 'provider-plugin-missing',
      title: `The Pulumi provider plugin "${plugin.name}" is not installed`,
      detail: limit(
        plugin.name === 'pulumi-nodejs'
          ? 'The dynamic provider plugin ships with @pulumi/pulumi: its directory must be on PATH and the package resolvable through NODE_PATH (see src/engine/pulumi-env.ts).'
          : `Install it on the workers with the service's PULUMI_HOME (${install}), or allow them to download it.`,
      ),
    };
  }
  const credentials = CREDENTIALS.exec(everything);
  if (credentials) {
    return {
      code: 'cloud-credentials-missing',
      title: 'The worker has no usable cloud credentials',
      detail: limit(
        `${lineAround(everything, credentials.index)} Give the worker credentials for this cloud (environment, instance role or workload identity).`,
      ),
    };
  }
  const diag = resourceDiagnostic(ctx);
  if (diag) {
    return { code: 'resource-error', title: `${diag.resource} failed`, detail: limit(diag.message) };
  }
  const line = firstLine(text, /^error: .*/im)?.replace(/^error: /i, '') ?? meaningfulLine(text);
  return { code: 'engine-error', title: 'The Pulumi engine failed', detail: limit(line) };
}

// What AWS, Google Cloud and Azure providers say when they find no credentials.
const CREDENTIALS =
  /NoCredentialProviders|no valid credential sources|could not find default credentials|Unable to locate credentials|failed to refresh cached credentials|ExpiredToken|InvalidClientTokenId|UnrecognizedClientException|Please run 'az login'|az login/i;

/** The plugin a run lacked, from the CLI's messages for a missing or undownloadable plugin. */
export function missingPlugin(text: string): { name: string; version?: string } | null {
  const download =
    /Could not automatically download and install resource plugin '?pulumi-resource-([\w.-]+?)'?(?: at version (v[\w.+-]+))?[,:\s]/i.exec(
      text,
    );
  if (download) return { name: download[1]!, version: download[2] };
  const other =
    /could not find latest version for provider ([\w.-]+)/i.exec(text) ??
    // The plugin binary was found but died at start (e.g. the dynamic provider cannot resolve @pulumi/pulumi).
    /could not read plugin \[[^\]]*pulumi-resource-([\w.-]+)\]/i.exec(text) ??
    /no resource plugin '?pulumi-resource-([\w.-]+?)'? found/i.exec(text) ??
    /could not (?:find|load) (?:the )?plugin (?:for )?'?(?:pulumi-resource-)?([\w.-]+?)'?[\s:,]/i.exec(text);
  return other ? { name: other[1]! } : null;
}

/** The line of `text` that holds position `at`, trimmed. */
function lineAround(text: string, at: number): string {
  const start = text.lastIndexOf('\n', at) + 1;
  const end = text.indexOf('\n', at);
  return text
    .slice(start, end === -1 ? undefined : end)
    .trim()
    .replace(/^error: /i, '');
}

/** The first error diagnostic that names a resource, reduced to its resource name and first meaningful line. */
function resourceDiagnostic(ctx: FailureContext): { resource: string; message: string } | null {
  const cleaned = ctx.diagnostics.map((d) => ({ urn: d.urn, message: clean(d.message, ctx.redact) }));
  const isStack = (urn?: string) => !urn || urn.includes('::pulumi:pulumi:Stack::');
  const withResource = cleaned.find((d) => !isStack(d.urn));
  const pick = withResource ?? cleaned.find((d) => /error|exception|failed/i.test(d.message));
  if (!pick) return null;
  const resource = isStack(pick.urn) ? 'The program' : resourceLabel(pick.urn!);
  return { resource, message: meaningfulLine(pick.message) };
}

/** `urn:pulumi:stack::project::a:b:Type$c:d:Pool::name` -> `c:d:Pool "name"`. */
export function resourceLabel(urn: string): string {
  const parts = urn.split('::');
  const type = (parts[2] ?? '').split('$').pop() ?? '';
  return `${type} "${parts[3] ?? urn}"`;
}

function clean(s: string, redact: string[]): string {
  let out = s.replace(ANSI, '');
  for (const secret of redact) if (secret) out = out.split(secret).join('[secret]');
  return out;
}

function firstLine(text: string, re: RegExp): string | undefined {
  return re.exec(text)?.[0].trim();
}

/** The first line that says something: skips blanks, the CommandError preamble and stack frames. */
function meaningfulLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(code: |stdout:|stderr:|err\?:|at |Diagnostics:|Resources:|Duration:)/.test(l));
  const best = lines.find((l) => /error/i.test(l)) ?? lines[0] ?? 'unknown error';
  return best.replace(/^(error: )+/i, '').replace(/^Error: /, '');
}

function limit(s: string): string {
  return s.length <= MAX_DETAIL_CHARS ? s : `${s.slice(0, MAX_DETAIL_CHARS - 1)}…`;
}
