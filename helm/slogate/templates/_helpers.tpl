{{/* Chart name, truncated to the 63 characters Kubernetes allows. */}}
{{- define "slogate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release-chart, unless the release already says slogate. */}}
{{- define "slogate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "slogate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels. */}}
{{- define "slogate.labels" -}}
helm.sh/chart: {{ include "slogate.chart" . }}
{{ include "slogate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: slogate
{{- end }}

{{/* Selector labels: stable across upgrades. */}}
{{- define "slogate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "slogate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The job label Prometheus gives slogate's series when the ServiceMonitor
scrapes it: the value of the Service label named by serviceMonitor.jobLabel, or
the Service's name when there is no such label (the operator's rule). The
self-health rules select on it, whatever nameOverride says. */}}
{{- define "slogate.job" -}}
{{- $labels := include "slogate.labels" . | fromYaml -}}
{{- $job := "" -}}
{{- with .Values.serviceMonitor.jobLabel }}{{ $job = get $labels . | toString }}{{ end -}}
{{- default (include "slogate.fullname" .) $job -}}
{{- end }}

{{- define "slogate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "slogate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "slogate.image" -}}
{{- with .Values.image.registry }}{{ . }}/{{ end }}{{ printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "slogate.testImage" -}}
{{- with .Values.tests.image.registry }}{{ . }}/{{ end }}{{ printf "%s:%s" .Values.tests.image.repository .Values.tests.image.tag }}
{{- end }}

{{/* Where secrets are mounted in the pod. */}}
{{- define "slogate.secretsDir" -}}/etc/slogate/secrets{{- end }}

{{/* The slogate config file: prometheus from .Values.prometheus, the rest from .Values.config. */}}
{{- define "slogate.config" -}}
apiVersion: slogate/v1
prometheus:
  url: {{ .Values.prometheus.url | quote }}
  timeout: {{ .Values.prometheus.timeout | quote }}
  {{- with .Values.prometheus.bearerTokenSecret.name }}
  bearer_token_file: {{ include "slogate.secretsDir" $ }}/bearer-token/{{ $.Values.prometheus.bearerTokenSecret.key }}
  {{- end }}
  {{- if .Values.prometheus.basicAuth.username }}
  basic_auth:
    username: {{ .Values.prometheus.basicAuth.username | quote }}
    password_file: {{ include "slogate.secretsDir" . }}/basic-auth/{{ .Values.prometheus.basicAuth.passwordSecret.key }}
  {{- end }}
  {{- if or .Values.prometheus.caSecret.name .Values.prometheus.insecureSkipVerify }}
  tls:
    {{- with .Values.prometheus.caSecret.name }}
    ca_file: {{ include "slogate.secretsDir" $ }}/ca/{{ $.Values.prometheus.caSecret.key }}
    {{- end }}
    insecure_skip_verify: {{ .Values.prometheus.insecureSkipVerify }}
  {{- end }}
  {{- with .Values.prometheus.headers }}
  headers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{ toYaml .Values.config }}
{{- end }}

{{/* The generated files of one kind ("rules" or "dashboards") as a YAML map of
file name to text: from .Values.generated when `slogate generate
--output.helm-values` wrote it, else the chart's files/ (generated from the
example config). Fails the render when they were generated for another config
than .Values.config: stale rules would judge SLOs nobody configured. */}}
{{- define "slogate.generated" -}}
{{- $ := index . 0 -}}
{{- $kind := index . 1 -}}
{{- $digest := $.Values.config | toJson | sha256sum -}}
{{- $generated := $.Values.generated | default dict -}}
{{- $fix := "run `slogate generate --config.file=<your config> --output.helm-values=slo-values.yaml` and pass `-f slo-values.yaml`" -}}
{{- if $generated.configDigest -}}
{{- if ne $generated.configDigest $digest -}}
{{- fail (printf "generated.%s were generated for another config than values.config (digest %s, config %s): %s" $kind $generated.configDigest $digest $fix) -}}
{{- end -}}
{{- toYaml (index $generated $kind | default dict) -}}
{{- else -}}
{{- /* files/config.yaml is the config files/ were generated from (the default). */ -}}
{{- $example := omit ($.Files.Get "files/config.yaml" | fromYaml) "apiVersion" "prometheus" "alerting" | toJson | sha256sum -}}
{{- if ne $digest $example -}}
{{- fail (printf "values.config is not the example the chart's %s were generated from, and values.generated is empty: %s" $kind $fix) -}}
{{- end -}}
{{- $files := dict -}}
{{- range $path, $_ := $.Files.Glob (printf "files/%s/*" $kind) -}}
{{- $_ := set $files (base $path) ($.Files.Get $path) -}}
{{- end -}}
{{- toYaml $files -}}
{{- end -}}
{{- end }}
