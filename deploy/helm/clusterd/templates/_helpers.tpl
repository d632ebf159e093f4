{{/* Chart name, or nameOverride. */}}
{{- define "clusterd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every resource name: fullnameOverride, or <release>-<name> (the release alone when it holds the name). */}}
{{- define "clusterd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "clusterd.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's resources; call with (dict "root" $ "component" "api"). */}}
{{- define "clusterd.componentName" -}}
{{- printf "%s-%s" (include "clusterd.fullname" .root | trunc 56 | trimSuffix "-") .component -}}
{{- end -}}

{{/* Labels of every resource. */}}
{{- define "clusterd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "clusterd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: clusterd
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels that select the release's pods. */}}
{{- define "clusterd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clusterd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one component's resources; call with (dict "root" $ "component" "api"). */}}
{{- define "clusterd.componentLabels" -}}
{{ include "clusterd.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels that select one component's pods; call with (dict "root" $ "component" "api"). */}}
{{- define "clusterd.componentSelectorLabels" -}}
{{ include "clusterd.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The ServiceAccount the pods run as. */}}
{{- define "clusterd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "clusterd.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository:tag, or repository@digest when a digest is given. */}}
{{- define "clusterd.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The data directory: CLUSTERD_DATA_DIR, and PULUMI_HOME beneath it (the service sets that itself). */}}
{{- define "clusterd.dataDir" -}}/var/lib/clusterd{{- end -}}
{{- define "clusterd.adminTokenDir" -}}/var/run/secrets/clusterd/admin-token{{- end -}}
{{- define "clusterd.redisCaDir" -}}/etc/clusterd/redis-ca{{- end -}}

{{/* One env entry read from a Secret; call with (list "NAME" secretName key). */}}
{{- define "clusterd.secretEnv" -}}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 1 | quote }}
      key: {{ index . 2 | quote }}
{{- end -}}

{{/*
The environment both roles share: records, queue, state, secrets, data dir, metrics listener.
Every credential is a secretKeyRef; nothing secret is ever a literal value.
*/}}
{{- define "clusterd.commonEnv" -}}
{{- $v := .Values -}}
- name: NODE_ENV
  value: production
- name: HOST
  value: 0.0.0.0
- name: METRICS_PORT
  value: {{ $v.metrics.port | quote }}
- name: CLUSTERD_DATA_DIR
  value: {{ include "clusterd.dataDir" . }}
{{ include "clusterd.secretEnv" (list "DATABASE_URL" $v.database.existingSecret $v.database.secretKey) }}
{{ include "clusterd.secretEnv" (list "REDIS_URL" $v.redis.existingSecret $v.redis.secretKey) }}
{{- if or $v.redis.tlsCa.existingSecret $v.redis.tlsCa.existingConfigMap }}
- name: REDIS_TLS_CA_FILE
  value: {{ include "clusterd.redisCaDir" . }}/ca.crt
{{- end }}
- name: QUEUE_PREFIX
  value: {{ $v.queue.prefix | quote }}
{{- if $v.pulumi.backend.existingSecret }}
{{ include "clusterd.secretEnv" (list "PULUMI_BACKEND_URL" $v.pulumi.backend.existingSecret $v.pulumi.backend.secretKey) }}
{{- else }}
- name: PULUMI_BACKEND_URL
  value: {{ $v.pulumi.backend.url | quote }}
{{- end }}
- name: CLUSTERD_SECRETS_PROVIDER
  value: {{ default "passphrase" $v.pulumi.secretsProvider | quote }}
{{- if $v.pulumi.passphrase.existingSecret }}
{{ include "clusterd.secretEnv" (list "PULUMI_CONFIG_PASSPHRASE" $v.pulumi.passphrase.existingSecret $v.pulumi.passphrase.secretKey) }}
{{- end }}
{{- if $v.pulumi.accessToken.existingSecret }}
{{ include "clusterd.secretEnv" (list "PULUMI_ACCESS_TOKEN" $v.pulumi.accessToken.existingSecret $v.pulumi.accessToken.secretKey) }}
{{- end }}
{{ include "clusterd.secretEnv" (list "CLUSTERD_RECORDS_KEY" $v.recordsKey.existingSecret $v.recordsKey.secretKey) }}
- name: LOG_LEVEL
  value: {{ $v.logLevel | quote }}
{{- end -}}

{{/* Volumes both roles share; call with (dict "root" $ "component" "api" "values" .Values.api). */}}
{{- define "clusterd.commonVolumes" -}}
{{- $v := .root.Values -}}
- name: data
  emptyDir:
    {{- with .values.dataDir.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
- name: tmp
  emptyDir:
    {{- with $v.tmpDir.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- if $v.redis.tlsCa.existingSecret }}
- name: redis-ca
  secret:
    secretName: {{ $v.redis.tlsCa.existingSecret | quote }}
    items:
      - key: {{ $v.redis.tlsCa.key | quote }}
        path: ca.crt
{{- else if $v.redis.tlsCa.existingConfigMap }}
- name: redis-ca
  configMap:
    name: {{ $v.redis.tlsCa.existingConfigMap | quote }}
    items:
      - key: {{ $v.redis.tlsCa.key | quote }}
        path: ca.crt
{{- end }}
{{- end -}}

{{/* Mounts of the shared volumes. */}}
{{- define "clusterd.commonVolumeMounts" -}}
- name: data
  mountPath: {{ include "clusterd.dataDir" . }}
- name: tmp
  mountPath: /tmp
{{- if or .Values.redis.tlsCa.existingSecret .Values.redis.tlsCa.existingConfigMap }}
- name: redis-ca
  mountPath: {{ include "clusterd.redisCaDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* A PodDisruptionBudget's budget: minAvailable when set (it wins), maxUnavailable otherwise. */}}
{{- define "clusterd.pdbBudget" -}}
{{- if not (kindIs "invalid" .minAvailable) }}
minAvailable: {{ .minAvailable }}
{{- else }}
maxUnavailable: {{ .maxUnavailable }}
{{- end }}
{{- end -}}

{{/*
Refuses values that could not work, each with what to set instead. The schema has checked the shapes;
these are the rules between values. Rendered by templates/validate.yaml.
*/}}
{{- define "clusterd.validate" -}}
{{- $v := .Values -}}
{{- if not $v.database.existingSecret -}}
{{- fail "database.existingSecret is required: the API and worker pods share their records through PostgreSQL (a Secret holding DATABASE_URL); the embedded PGlite store serves one process only" -}}
{{- end -}}
{{- if not $v.redis.existingSecret -}}
{{- fail "redis.existingSecret is required: a Secret holding REDIS_URL, the Redis every pod queues work through" -}}
{{- end -}}
{{- if and $v.redis.tlsCa.existingSecret $v.redis.tlsCa.existingConfigMap -}}
{{- fail "redis.tlsCa: set existingSecret or existingConfigMap, not both" -}}
{{- end -}}
{{- if not $v.recordsKey.existingSecret -}}
{{- fail "recordsKey.existingSecret is required: a Secret holding CLUSTERD_RECORDS_KEY (openssl rand -base64 32), the same in every pod; a key generated per pod would seal fields the other pods cannot open" -}}
{{- end -}}
{{- if and $v.pulumi.backend.url $v.pulumi.backend.existingSecret -}}
{{- fail "pulumi.backend: set url or existingSecret, not both" -}}
{{- end -}}
{{- if not (or $v.pulumi.backend.url $v.pulumi.backend.existingSecret) -}}
{{- fail "pulumi.backend.url or pulumi.backend.existingSecret is required: a state backend every pod shares (s3://, gs://, azblob://, postgres://, https://api.pulumi.com); the default file:// backend would live on one pod's disk" -}}
{{- end -}}
{{- if hasPrefix "file://" $v.pulumi.backend.url -}}
{{- fail (printf "pulumi.backend.url %s is refused: a file:// backend lives on one pod's disk and cannot be shared by the API and worker pods; use s3://, gs://, azblob://, postgres:// or https://api.pulumi.com" $v.pulumi.backend.url) -}}
{{- end -}}
{{- if and (eq (default "passphrase" $v.pulumi.secretsProvider) "passphrase") (not $v.pulumi.passphrase.existingSecret) -}}
{{- fail "no secrets provider: set pulumi.secretsProvider to a KMS URL (awskms://, gcpkms://, azurekeyvault://, hashivault://) or pulumi.passphrase.existingSecret to a Secret holding PULUMI_CONFIG_PASSPHRASE; a passphrase generated per pod would make the stacks' secrets unreadable to the others" -}}
{{- end -}}
{{- if eq (int $v.metrics.port) (int $v.api.port) -}}
{{- fail (printf "metrics.port and api.port are both %d: the metrics listener needs a port of its own" (int $v.api.port)) -}}
{{- end -}}
{{- range $component := list "api" "worker" -}}
{{- $pdb := (index $v $component).pdb -}}
{{- if and $pdb.enabled (kindIs "invalid" $pdb.minAvailable) (kindIs "invalid" $pdb.maxUnavailable) -}}
{{- fail (printf "%s.pdb is enabled with neither minAvailable nor maxUnavailable: set one of them" $component) -}}
{{- end -}}
{{- end -}}
{{- end -}}
