import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHART = path.join(ROOT, 'deploy/helm/clusterd');
const VALUES = path.join(ROOT, 'test/deploy/values');
const RELEASE = 'cd';
const NAMESPACE = 'platform';

/** A rendered Kubernetes object; `any` below its top level, as the chart renders many kinds. */
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  [field: string]: any;
}

/** The env variables every Secret of the chart feeds; never a literal value. */
const SECRET_ENV = ['DATABASE_URL', 'REDIS_URL', 'PULUMI_CONFIG_PASSPHRASE', 'PULUMI_ACCESS_TOKEN', 'CLUSTERD_RECORDS_KEY'];

let helm = '';

// Set by scripts/test.sh; a run of vitest alone finds or builds it here (instant once cached).
beforeAll(() => {
  const dir =
    process.env.CLUSTERD_HELM_DIR ||
    execFileSync('bash', [path.join(ROOT, 'scripts/ensure-helm.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  helm = path.join(dir, 'helm');
}, 600_000);

/** Runs helm; resolves with its output whether it succeeded or not. */
async function runHelm(args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(helm, args, { encoding: 'utf8' });
    return { ok: true, stdout, stderr };
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    return { ok: false, stdout, stderr };
  }
}

function templateArgs(valuesFiles: string[], set: string[]): string[] {
  return [
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    ...valuesFiles.flatMap((f) => ['--values', path.join(VALUES, f)]),
    ...set.flatMap((s) => ['--set', s]),
  ];
}

/** Every object `helm template` renders with these values files, each document parsed. */
async function render(valuesFile: string, set: string[] = []): Promise<Manifest[]> {
  const { ok, stdout, stderr } = await runHelm(templateArgs([valuesFile], set));
  assert.ok(ok, `helm template failed: ${stderr}`);
  return parseAllDocuments(stdout)
    .map((doc) => {
      assert.deepEqual(doc.errors, [], `a rendered document is not YAML: ${doc.errors.join('; ')}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

/** The message `helm template` refuses these values with (the template's `fail`, or the schema's findings). */
async function refusal(valuesFile: string, set: string[]): Promise<string> {
  const { ok, stderr } = await runHelm(templateArgs([valuesFile], set));
  assert.ok(!ok, 'helm template rendered values it should refuse');
  return stderr.trim();
}

/** The message a template's `fail` gave, without helm's "execution error at (file:line:col): " prefix. */
function failMessage(stderr: string): string {
  const match = /^Error: execution error at \([^)]*\): (.*)$/m.exec(stderr);
  assert.ok(match, `not a template failure: ${stderr}`);
  return match[1]!;
}

const only = (manifests: Manifest[], kind: string, name?: string): Manifest => {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
};
const all = (manifests: Manifest[], kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);
const deployment = (manifests: Manifest[], component: 'api' | 'worker') =>
  only(manifests, 'Deployment', `${RELEASE}-clusterd-${component}`);
const container = (d: Manifest) => {
  assert.equal(d.spec.template.spec.containers.length, 1);
  return d.spec.template.spec.containers[0];
};
const envOf = (d: Manifest): any[] => container(d).env;
const envValue = (d: Manifest, name: string): string | undefined => {
  const entries = envOf(d).filter((e) => e.name === name);
  assert.ok(entries.length <= 1, `${name} is set ${entries.length} times`);
  return entries[0]?.value;
};
const portNamed = (d: Manifest, name: string): number => container(d).ports.find((p: any) => p.name === name)?.containerPort;

/** What each values file must come out as. */
interface Case {
  file: string;
  replicas: { api: number; worker: number };
  serviceMonitor: boolean;
  networkPolicy: boolean;
  restrictedEgress: boolean;
  pdbs: boolean;
  serviceAccount: { created: boolean; name: string; annotations?: Record<string, string> };
  adminToken: boolean;
  redisCa: boolean;
  /** PULUMI_BACKEND_URL comes from a Secret (a URL with credentials). */
  secretBackend: boolean;
}

const CASES: Case[] = [
  {
    file: 'minimal.yaml',
    replicas: { api: 2, worker: 2 },
    serviceMonitor: false,
    networkPolicy: true,
    restrictedEgress: false,
    pdbs: true,
    serviceAccount: { created: true, name: `${RELEASE}-clusterd` },
    adminToken: false,
    redisCa: false,
    secretBackend: false,
  },
  {
    file: 'production.yaml',
    replicas: { api: 3, worker: 4 },
    serviceMonitor: true,
    networkPolicy: true,
    restrictedEgress: true,
    pdbs: true,
    serviceAccount: {
      created: true,
      name: `${RELEASE}-clusterd`,
      annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/clusterd' },
    },
    adminToken: true,
    redisCa: true,
    secretBackend: true,
  },
  {
    file: 'gke-existing-account.yaml',
    replicas: { api: 1, worker: 1 },
    serviceMonitor: false,
    networkPolicy: false,
    restrictedEgress: false,
    pdbs: false,
    serviceAccount: { created: false, name: 'clusterd-gke' },
    adminToken: false,
    redisCa: true,
    secretBackend: false,
  },
];

describe('the Helm chart deploy/helm/clusterd', () => {
  describe('helm lint', () => {
    for (const file of ['minimal.yaml', 'production.yaml']) {
      it(`passes with --strict on ${file}`, async () => {
        const { ok, stdout, stderr } = await runHelm(['lint', '--strict', CHART, '--values', path.join(VALUES, file)]);
        assert.ok(ok, `${stdout}\n${stderr}`);
        assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      });
    }
  });

  for (const c of CASES) {
    describe(`helm template with ${c.file}`, () => {
      let manifests: Manifest[] = [];
      beforeAll(async () => {
        manifests = await render(c.file);
      });

      it('renders an API Deployment (CLUSTERD_ROLE=api) and a worker Deployment (CLUSTERD_ROLE=worker) with their replicas', () => {
        assert.deepEqual(
          all(manifests, 'Deployment')
            .map((d) => d.metadata.name)
            .sort(),
          [`${RELEASE}-clusterd-api`, `${RELEASE}-clusterd-worker`],
        );
        for (const component of ['api', 'worker'] as const) {
          const d = deployment(manifests, component);
          assert.equal(envValue(d, 'CLUSTERD_ROLE'), component);
          assert.equal(d.spec.replicas, c.replicas[component]);
          assert.equal(d.spec.selector.matchLabels['app.kubernetes.io/component'], component);
          for (const [key, value] of Object.entries(d.spec.selector.matchLabels)) assert.equal(d.spec.template.metadata.labels[key], value);
          // Both roles share one PostgreSQL, one Redis and a data dir on an emptyDir.
          assert.equal(envValue(d, 'HOST'), '0.0.0.0');
          assert.equal(envValue(d, 'CLUSTERD_DATA_DIR'), '/var/lib/clusterd');
          assert.ok(envValue(d, 'QUEUE_PREFIX'));
        }
        assert.equal(envValue(deployment(manifests, 'api'), 'PORT'), String(portNamed(deployment(manifests, 'api'), 'http')));
      });

      it('probes the API on its HTTP port and the workers on the metrics port: /healthz for liveness, /readyz for readiness', () => {
        const expected = { api: 'http', worker: 'metrics' } as const;
        for (const component of ['api', 'worker'] as const) {
          const d = deployment(manifests, component);
          const main = container(d);
          assert.deepEqual(main.livenessProbe.httpGet, { path: '/healthz', port: expected[component] });
          assert.deepEqual(main.startupProbe.httpGet, { path: '/healthz', port: expected[component] });
          assert.deepEqual(main.readinessProbe.httpGet, { path: '/readyz', port: expected[component] });
          assert.equal(String(portNamed(d, 'metrics')), envValue(d, 'METRICS_PORT'));
        }
        assert.equal(portNamed(deployment(manifests, 'worker'), 'http'), undefined);
      });

      it('gives each pod a termination grace longer than its own shutdown', () => {
        const worker = deployment(manifests, 'worker');
        const workerShutdownSeconds =
          (Number(envValue(worker, 'WORKER_SHUTDOWN_GRACE_MS')) + Number(envValue(worker, 'WORKER_CANCEL_GRACE_MS'))) / 1000;
        assert.ok(workerShutdownSeconds >= 600, `worker shutdown ${workerShutdownSeconds} s`);
        assert.ok(worker.spec.template.spec.terminationGracePeriodSeconds > workerShutdownSeconds);
        const api = deployment(manifests, 'api');
        const delay = Number(envValue(api, 'HTTP_SHUTDOWN_DELAY_MS'));
        const grace = Number(envValue(api, 'HTTP_SHUTDOWN_GRACE_MS'));
        assert.ok(delay >= 5000, `HTTP_SHUTDOWN_DELAY_MS ${delay}`);
        // The API ends open event streams a second after its grace.
        assert.ok(api.spec.template.spec.terminationGracePeriodSeconds > (delay + grace) / 1000 + 1);
      });

      it('reads every secret from an existing Secret through secretKeyRef and renders none', () => {
        assert.deepEqual(all(manifests, 'Secret'), []);
        for (const component of ['api', 'worker'] as const) {
          const env = envOf(deployment(manifests, component));
          const fromSecrets = env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name);
          const expected = ['DATABASE_URL', 'REDIS_URL', 'CLUSTERD_RECORDS_KEY'];
          if (c.secretBackend) expected.push('PULUMI_BACKEND_URL');
          if (envValue(deployment(manifests, component), 'CLUSTERD_SECRETS_PROVIDER') === 'passphrase')
            expected.push('PULUMI_CONFIG_PASSPHRASE');
          for (const name of expected) assert.ok(fromSecrets.includes(name), `${component}: ${name} is not read from a Secret`);
          for (const e of env) {
            if (SECRET_ENV.includes(e.name) || (c.secretBackend && e.name === 'PULUMI_BACKEND_URL')) {
              assert.equal(e.value, undefined, `${component}: ${e.name} has a literal value`);
              assert.ok(e.valueFrom.secretKeyRef.name && e.valueFrom.secretKeyRef.key, `${component}: ${e.name} names no Secret and key`);
            }
            // No credential in any value: no URL with a user and password, no connection string of the records or queue.
            if (typeof e.value === 'string') assert.doesNotMatch(e.value, /:\/\/[^/@\s]*:[^/@\s]*@|^(postgres(ql)?|rediss?):\/\//i, e.name);
          }
        }
      });

      it('runs every container as uid 10001 with a read-only root filesystem, no privilege escalation and no capability', () => {
        for (const component of ['api', 'worker'] as const) {
          const pod = deployment(manifests, component).spec.template.spec;
          assert.equal(pod.securityContext.runAsNonRoot, true);
          assert.equal(pod.securityContext.runAsUser, 10001);
          assert.equal(pod.securityContext.fsGroup, 10001);
          assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
          for (const ctr of [...pod.containers, ...(pod.initContainers ?? [])]) {
            assert.equal(ctr.securityContext.readOnlyRootFilesystem, true, ctr.name);
            assert.equal(ctr.securityContext.allowPrivilegeEscalation, false, ctr.name);
            assert.deepEqual(ctr.securityContext.capabilities.drop, ['ALL'], ctr.name);
          }
          // What the service writes lands on emptyDirs: the data dir (PULUMI_HOME is beneath it) and /tmp.
          const emptyDirs = new Set(pod.volumes.filter((v: any) => v.emptyDir).map((v: any) => v.name));
          const writable = pod.containers[0].volumeMounts.filter((m: any) => emptyDirs.has(m.name)).map((m: any) => m.mountPath);
          assert.deepEqual(writable.sort(), ['/tmp', '/var/lib/clusterd']);
          assert.ok(pod.volumes.find((v: any) => v.name === 'data').emptyDir.sizeLimit);
        }
      });

      it('mounts the admin token into the API pods only when a Secret holds it', () => {
        const api = deployment(manifests, 'api');
        const mount = container(api).volumeMounts.find((m: any) => m.name === 'admin-token');
        if (!c.adminToken) {
          assert.equal(envValue(api, 'CLUSTERD_ADMIN_TOKEN_FILE'), undefined);
          assert.equal(mount, undefined);
          return;
        }
        assert.equal(envValue(api, 'CLUSTERD_ADMIN_TOKEN_FILE'), '/var/run/secrets/clusterd/admin-token/token');
        assert.deepEqual(mount, { name: 'admin-token', mountPath: '/var/run/secrets/clusterd/admin-token', readOnly: true });
        const volume = api.spec.template.spec.volumes.find((v: any) => v.name === 'admin-token');
        assert.deepEqual(volume.secret.items, [{ key: 'token', path: 'token' }]);
        // The file is root's; uid 10001 reads it through fsGroup.
        assert.equal(volume.secret.defaultMode, 0o440);
        assert.equal(envValue(deployment(manifests, 'worker'), 'CLUSTERD_ADMIN_TOKEN_FILE'), undefined);
      });

      it('names a mounted Redis CA in REDIS_TLS_CA_FILE only when one is given', () => {
        for (const component of ['api', 'worker'] as const) {
          const d = deployment(manifests, component);
          const mount = container(d).volumeMounts.find((m: any) => m.name === 'redis-ca');
          if (!c.redisCa) {
            assert.equal(envValue(d, 'REDIS_TLS_CA_FILE'), undefined);
            continue;
          }
          assert.equal(envValue(d, 'REDIS_TLS_CA_FILE'), `${mount.mountPath}/ca.crt`);
          assert.equal(mount.readOnly, true);
          const volume = d.spec.template.spec.volumes.find((v: any) => v.name === 'redis-ca');
          assert.equal((volume.secret ?? volume.configMap).items[0].path, 'ca.crt');
        }
      });

      it(c.pdbs ? 'gives each Deployment a PodDisruptionBudget selecting its pods' : 'renders no PodDisruptionBudget', () => {
        const pdbs = all(manifests, 'PodDisruptionBudget');
        if (!c.pdbs) return assert.deepEqual(pdbs, []);
        assert.equal(pdbs.length, 2);
        for (const component of ['api', 'worker'] as const) {
          const pdb = only(manifests, 'PodDisruptionBudget', `${RELEASE}-clusterd-${component}`);
          assert.deepEqual(pdb.spec.selector.matchLabels, deployment(manifests, component).spec.selector.matchLabels);
          assert.equal([pdb.spec.minAvailable, pdb.spec.maxUnavailable].filter((b) => b !== undefined).length, 1);
        }
      });

      it(
        c.networkPolicy
          ? 'lets anyone or the peers given reach the API port, and only the peers given the metrics'
          : 'renders no NetworkPolicy',
        () => {
          const policies = all(manifests, 'NetworkPolicy');
          if (!c.networkPolicy) return assert.deepEqual(policies, []);
          const api = only(manifests, 'NetworkPolicy', `${RELEASE}-clusterd-api`);
          const worker = only(manifests, 'NetworkPolicy', `${RELEASE}-clusterd-worker`);
          assert.equal(policies.length, 2);
          assert.deepEqual(api.spec.podSelector, deployment(manifests, 'api').spec.selector);
          assert.deepEqual(worker.spec.podSelector, deployment(manifests, 'worker').spec.selector);
          const ports = (p: Manifest) => p.spec.ingress.map((rule: any) => rule.ports.map((port: any) => port.port).join());
          const metricsPeers = worker.spec.ingress.find((rule: any) => rule.ports[0].port === 'metrics')?.from;
          if (metricsPeers) {
            assert.deepEqual(ports(api), ['http', 'metrics']);
            assert.deepEqual(ports(worker), ['metrics']);
            assert.ok(metricsPeers.length > 0);
          } else {
            assert.deepEqual(ports(api), ['http']);
            assert.deepEqual(worker.spec.ingress, []);
          }
          for (const p of policies) {
            if (!c.restrictedEgress) {
              assert.deepEqual(p.spec.policyTypes, ['Ingress']);
              continue;
            }
            assert.deepEqual(p.spec.policyTypes, ['Ingress', 'Egress']);
            assert.deepEqual(
              p.spec.egress[0].ports.map((port: any) => `${port.port}/${port.protocol}`),
              ['53/UDP', '53/TCP'],
            );
            assert.ok(p.spec.egress.length > 1, 'egress restricted to DNS alone');
          }
        },
      );

      it('runs the pods as the ServiceAccount, with the annotations that give them a cloud identity', () => {
        for (const component of ['api', 'worker'] as const) {
          const pod = deployment(manifests, component).spec.template.spec;
          assert.equal(pod.serviceAccountName, c.serviceAccount.name);
          assert.equal(pod.automountServiceAccountToken, false);
        }
        const accounts = all(manifests, 'ServiceAccount');
        if (!c.serviceAccount.created) return assert.deepEqual(accounts, []);
        const account = only(manifests, 'ServiceAccount', c.serviceAccount.name);
        assert.deepEqual(account.metadata.annotations, c.serviceAccount.annotations);
        assert.equal(account.automountServiceAccountToken, false);
      });

      it(c.serviceMonitor ? 'scrapes the API and worker Services with a ServiceMonitor' : 'renders no ServiceMonitor', () => {
        const monitors = all(manifests, 'ServiceMonitor');
        const services = all(manifests, 'Service');
        // Both Services expose the metrics port; only the API's the HTTP one.
        assert.deepEqual(services.map((s) => s.spec.ports.map((p: any) => `${p.name}>${p.targetPort}`).join()).sort(), [
          'http>http,metrics>metrics',
          'metrics>metrics',
        ]);
        if (!c.serviceMonitor) return assert.deepEqual(monitors, []);
        const monitor = only(manifests, 'ServiceMonitor');
        assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
        assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: [NAMESPACE] });
        assert.deepEqual(
          monitor.spec.endpoints.map((e: any) => `${e.port} ${e.path}`),
          ['metrics /metrics'],
        );
        const selects = (s: Manifest) =>
          Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v) &&
          monitor.spec.selector.matchExpressions.every((e: any) => e.values.includes(s.metadata.labels?.[e.key]));
        assert.deepEqual(services.filter(selects).length, 2);
      });
    });
  }

  describe('refusals', () => {
    it('refuses a release without the database Secret: PGlite serves one process', async () => {
      assert.equal(
        failMessage(await refusal('minimal.yaml', ['database.existingSecret='])),
        'database.existingSecret is required: the API and worker pods share their records through PostgreSQL ' +
          '(a Secret holding DATABASE_URL); the embedded PGlite store serves one process only',
      );
    });

    it('refuses a release without the Redis Secret or the records key', async () => {
      assert.match(failMessage(await refusal('minimal.yaml', ['redis.existingSecret='])), /^redis\.existingSecret is required: /);
      assert.match(failMessage(await refusal('minimal.yaml', ['recordsKey.existingSecret='])), /^recordsKey\.existingSecret is required: /);
    });

    it('refuses a release with no secrets provider: neither a KMS URL nor a passphrase Secret', async () => {
      assert.equal(
        failMessage(await refusal('minimal.yaml', ['pulumi.passphrase.existingSecret='])),
        'no secrets provider: set pulumi.secretsProvider to a KMS URL (awskms://, gcpkms://, azurekeyvault://, hashivault://) ' +
          'or pulumi.passphrase.existingSecret to a Secret holding PULUMI_CONFIG_PASSPHRASE; ' +
          "a passphrase generated per pod would make the stacks' secrets unreadable to the others",
      );
    });

    it('refuses a file:// backend, which no two pods can share, and a release with no backend', async () => {
      assert.equal(
        failMessage(await refusal('minimal.yaml', ['pulumi.backend.url=file:///var/lib/clusterd/state'])),
        "pulumi.backend.url file:///var/lib/clusterd/state is refused: a file:// backend lives on one pod's disk and cannot be " +
          'shared by the API and worker pods; use s3://, gs://, azblob://, postgres:// or https://api.pulumi.com',
      );
      assert.match(
        failMessage(await refusal('minimal.yaml', ['pulumi.backend.url='])),
        /^pulumi\.backend\.url or pulumi\.backend\.existingSecret is required: /,
      );
      assert.equal(
        failMessage(await refusal('minimal.yaml', ['pulumi.backend.existingSecret=state'])),
        'pulumi.backend: set url or existingSecret, not both',
      );
    });

    it('refuses a metrics port that is the API port', async () => {
      assert.equal(
        failMessage(await refusal('minimal.yaml', ['metrics.port=8080'])),
        'metrics.port and api.port are both 8080: the metrics listener needs a port of its own',
      );
    });

    it('refuses values that break the schema, naming each one', async () => {
      const message = await refusal('minimal.yaml', [
        'api.replicas=-1',
        'worker.concurrency=0',
        'logLevel=verbose',
        'pulumi.secretsProvider=vault://x',
        'api.replicaz=3',
      ]);
      assert.match(message, /^Error: values don't meet the specifications of the schema\(s\) in the following chart\(s\):\nclusterd:\n/);
      for (const finding of [
        "at '/api/replicas': minimum: got -1, want 0",
        "at '/worker/concurrency': minimum: got 0, want 1",
        "at '/logLevel': value must be one of",
        "at '/pulumi/secretsProvider': 'vault://x' does not match pattern",
        "at '/api': additional properties 'replicaz' not allowed",
      ])
        assert.ok(message.includes(finding), `no "${finding}" in:\n${message}`);
    });
  });
});
