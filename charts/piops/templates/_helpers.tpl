{{/* Names, labels and shared values of the PiOps chart. */}}

{{- define "piops.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "piops.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: piops
{{- end -}}

{{/* Selector labels of one component: name, instance, component. */}}
{{- define "piops.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "piops.image" -}}
{{- $repo := .image.repository -}}
{{- if .root.Values.imageRegistry -}}{{- $repo = printf "%s/%s" .root.Values.imageRegistry .image.repository -}}{{- end -}}
{{- printf "%s:%s" $repo (.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{- define "piops.redisHost" -}}
{{- if .Values.redis.deploy -}}
{{- printf "%s-redis-0.%s-redis" (include "piops.fullname" .) (include "piops.fullname" .) -}}
{{- else -}}
{{- required "redis.external.host is required when redis.deploy is false" .Values.redis.external.host -}}
{{- end -}}
{{- end -}}

{{- define "piops.redisPort" -}}
{{- if .Values.redis.deploy -}}6379{{- else -}}{{ .Values.redis.external.port }}{{- end -}}
{{- end -}}

{{/* The worker container's environment: the book's variables. */}}
{{- define "piops.redisEnv" -}}
- name: REDIS_HOST
  value: {{ include "piops.redisHost" . | quote }}
- name: REDIS_PORT
  value: {{ include "piops.redisPort" . | quote }}
{{- if and (not .Values.redis.deploy) .Values.redis.external.passwordSecret.name }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.external.passwordSecret.name }}
      key: {{ .Values.redis.external.passwordSecret.key }}
{{- end }}
- name: QUEUE_NAME
  value: {{ .Values.queue.name | quote }}
- name: MAX_ITERATIONS
  value: {{ .Values.queue.maxIterations | int64 | quote }}
- name: MAX_ATTEMPTS
  value: {{ .Values.queue.maxAttempts | quote }}
{{- end -}}

{{/* OpenTelemetry's standard variables, when an OTLP endpoint is given (docs/observability.md); nothing otherwise. */}}
{{- define "piops.otelEnv" -}}
{{- with .root.Values.observability.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $.root.Values.observability.otlpProtocol | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ $.service | quote }}
{{- end }}
{{- end -}}

{{- define "piops.podSecurity" -}}
runAsNonRoot: true
runAsUser: 1654
runAsGroup: 1654
fsGroup: 1654
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "piops.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "piops.serviceAccountName" -}}
{{- .Values.dashboard.serviceAccount.name | default (printf "%s-dashboard" (include "piops.fullname" .)) -}}
{{- end -}}

{{/*
The namespaces the dashboard operates, comma-separated: the release's own first (its default), then
dashboard.namespaces, each once.
*/}}
{{- define "piops.dashboardNamespaces" -}}
{{- if not (kindIs "slice" (.Values.dashboard.namespaces | default list)) }}
{{- fail (printf "dashboard.namespaces must be a list of namespace names, e.g. [team-a, team-b] (got %v)" .Values.dashboard.namespaces) }}
{{- end }}
{{- range $i, $ns := .Values.dashboard.namespaces | default list }}
{{- if not (and (kindIs "string" $ns) (le (len $ns) 63) (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $ns)) }}
{{- fail (printf "dashboard.namespaces[%d] %q is not a valid namespace name (DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)" $i (toString $ns)) }}
{{- end }}
{{- end }}
{{- uniq (prepend (.Values.dashboard.namespaces | default list) .Release.Namespace) | join "," -}}
{{- end }}

{{/* "true" when the Prometheus Operator's objects are to be rendered (monitoring.prometheusOperator). */}}
{{- define "piops.prometheusOperator" -}}
{{- $v := toString .Values.monitoring.prometheusOperator -}}
{{- if or (eq $v "true") (and (eq $v "auto") (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1")) -}}true{{- end -}}
{{- end -}}
