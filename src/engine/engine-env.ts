/**
 * The environment of a job's processes (its child, the Pulumi CLI, the language host and every
 * provider plugin, which runs blueprint code): only what Pulumi and the cloud providers need, never
 * the worker's whole environment. The worker's own settings (REDIS_URL, DATABASE_URL, CLUSTERD_*,
 * the stack passphrase) are not in it; the passphrase reaches the CLI through a file instead.
 */

/** Exact names passed through. */
const NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TMP',
  'TEMP',
  'TERM',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'XDG_DATA_HOME',
  // Kubernetes providers read these when a blueprint gives no kubeconfig of its own.
  'KUBECONFIG',
  'KUBERNETES_SERVICE_HOST',
  'KUBERNETES_SERVICE_PORT',
]);

/** Prefixes passed through: locale, Pulumi's own settings and the clouds' credentials and settings. */
const PREFIXES = ['LC_', 'PULUMI_', 'AWS_', 'GOOGLE_', 'CLOUDSDK_', 'GCLOUD_', 'GCE_', 'ARM_', 'AZURE_', 'MSI_', 'IDENTITY_', 'IMDS_'];

/** Never passed, whatever the lists say: the worker sets what the CLI needs of these itself. */
const NEVER = new Set(['PULUMI_CONFIG_PASSPHRASE', 'PULUMI_CONFIG_PASSPHRASE_FILE']);

/**
 * The variables of `source` a job may see: the built-in allowlist plus `extra` (exact names, or
 * prefixes ending in `*`, from CLUSTERD_ENGINE_ENV), minus the passphrase.
 */
export function engineEnvironment(source: NodeJS.ProcessEnv, extra: readonly string[] = []): Record<string, string> {
  const names = new Set([...NAMES, ...extra.filter((e) => !e.endsWith('*'))]);
  const prefixes = [...PREFIXES, ...extra.filter((e) => e.endsWith('*')).map((e) => e.slice(0, -1))];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || NEVER.has(name)) continue;
    if (names.has(name) || prefixes.some((p) => p && name.startsWith(p))) env[name] = value;
  }
  return env;
}
