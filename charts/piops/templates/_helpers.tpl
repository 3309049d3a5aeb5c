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

{{/*
REDIS_HOST: the in-chart primary (pod 0), or redis.external's host, or its cluster nodes separated by commas; empty when
PiOps reaches Redis through Sentinels given in redis.external.sentinel.
*/}}
{{- define "piops.redisHost" -}}
{{- if .Values.redis.deploy -}}
{{- if .Values.redis.sentinel.enabled -}}
{{- include "piops.redisPodAddress" (dict "root" . "ordinal" 0) -}}
{{- else -}}
{{- printf "%s-redis-0.%s-redis" (include "piops.fullname" .) (include "piops.fullname" .) -}}
{{- end -}}
{{- else if .Values.redis.external.cluster.nodes -}}
{{- join "," .Values.redis.external.cluster.nodes -}}
{{- else if not .Values.redis.external.sentinel.addresses -}}
{{- required "redis.external.host is required when redis.deploy is false (or redis.external.sentinel or redis.external.cluster.nodes)" .Values.redis.external.host -}}
{{- end -}}
{{- end -}}

{{- define "piops.redisPort" -}}
{{- if .Values.redis.deploy -}}6379{{- else -}}{{ .Values.redis.external.port }}{{- end -}}
{{- end -}}

{{/*
An in-chart Redis pod's name with its namespace (pod.service.namespace.svc): Sentinel hands it to clients, and KEDA's
operator, in a namespace of its own, must resolve it too.
*/}}
{{- define "piops.redisPodAddress" -}}
{{- $fullname := include "piops.fullname" .root -}}
{{- printf "%s-redis-%d.%s-redis.%s.svc" $fullname (int .ordinal) $fullname .root.Release.Namespace -}}
{{- end -}}

{{/* The Sentinels' addresses, host:port separated by commas: the in-chart ones or redis.external.sentinel's; else empty. */}}
{{- define "piops.redisSentinels" -}}
{{- if .Values.redis.deploy -}}
{{- if .Values.redis.sentinel.enabled -}}
{{- $name := printf "%s-redis-sentinel" (include "piops.fullname" .) -}}
{{- $addresses := list -}}
{{- range $i := until (int .Values.redis.sentinel.replicas) -}}
{{- $addresses = append $addresses (printf "%s-%d.%s.%s.svc:26379" $name $i $name $.Release.Namespace) -}}
{{- end -}}
{{- join "," $addresses -}}
{{- end -}}
{{- else -}}
{{- join "," (.Values.redis.external.sentinel.addresses | default list) -}}
{{- end -}}
{{- end -}}

{{- define "piops.redisSentinelService" -}}
{{- if .Values.redis.deploy -}}{{ .Values.redis.sentinel.masterName }}{{- else -}}{{ .Values.redis.external.sentinel.service }}{{- end -}}
{{- end -}}

{{/* The path REDIS_TLS_CA_FILE names inside PiOps' pods when redis.external.tls.caSecret is given; else empty. */}}
{{- define "piops.redisCaFile" -}}
{{- if and (not .Values.redis.deploy) .Values.redis.external.tls.enabled .Values.redis.external.tls.caSecret.name -}}
/etc/piops/redis-ca/ca.crt
{{- end -}}
{{- end -}}

{{/* The CA Secret's volume and its mount, for every pod that talks to Redis; nothing without redis.external.tls.caSecret. */}}
{{- define "piops.redisCaVolume" -}}
- name: redis-ca
  secret:
    secretName: {{ .Values.redis.external.tls.caSecret.name }}
    items:
      - key: {{ .Values.redis.external.tls.caSecret.key }}
        path: ca.crt
{{- end -}}

{{- define "piops.redisCaMount" -}}
- name: redis-ca
  mountPath: /etc/piops/redis-ca
  readOnly: true
{{- end -}}

{{/* Redis values that the schema cannot refuse on its own, each with a sentence saying what to do instead. */}}
{{- define "piops.redisCheck" -}}
{{- $r := .Values.redis -}}
{{- if $r.deploy -}}
{{- if and $r.sentinel.enabled (lt (int $r.replicas) 1) -}}
{{- fail "redis.sentinel.enabled needs redis.replicas of 1 or more: Sentinel fails over to a replica, and with none it has nothing to promote" -}}
{{- end -}}
{{- if and $r.sentinel.enabled (gt (int $r.sentinel.quorum) (int $r.sentinel.replicas)) -}}
{{- fail (printf "redis.sentinel.quorum (%d) cannot be more than redis.sentinel.replicas (%d): no failover could ever be agreed" (int $r.sentinel.quorum) (int $r.sentinel.replicas)) -}}
{{- end -}}
{{- else -}}
{{- if $r.sentinel.enabled -}}
{{- fail "redis.sentinel.enabled runs Sentinels for the in-chart Redis (redis.deploy=true); for an external Redis with Sentinel set redis.external.sentinel.service and addresses" -}}
{{- end -}}
{{- $layouts := list -}}
{{- if $r.external.host -}}{{- $layouts = append $layouts "host" -}}{{- end -}}
{{- if $r.external.sentinel.addresses -}}{{- $layouts = append $layouts "sentinel.addresses" -}}{{- end -}}
{{- if $r.external.cluster.nodes -}}{{- $layouts = append $layouts "cluster.nodes" -}}{{- end -}}
{{- if gt (len $layouts) 1 -}}
{{- fail (printf "redis.external: give one of host (one Redis), sentinel.addresses (Sentinel) or cluster.nodes (Redis Cluster), not %s" (join " and " $layouts)) -}}
{{- end -}}
{{- if and $r.external.sentinel.addresses (not $r.external.sentinel.service) -}}
{{- fail "redis.external.sentinel.addresses is set but redis.external.sentinel.service is not: name the primary as the Sentinels monitor it (their `sentinel monitor NAME ...`, often mymaster)" -}}
{{- end -}}
{{- if and $r.external.sentinel.service (not $r.external.sentinel.addresses) -}}
{{- fail "redis.external.sentinel.service is set but redis.external.sentinel.addresses is not: list the Sentinels as host:port (e.g. [sentinel-0:26379, sentinel-1:26379])" -}}
{{- end -}}
{{- if and $r.external.tls.caSecret.name (not $r.external.tls.enabled) -}}
{{- fail "redis.external.tls.caSecret is set but redis.external.tls.enabled is false: set it true to use TLS with that CA" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The worker container's environment: the book's variables, or the Sentinel, cluster and TLS ones (docs/deploy.md). */}}
{{- define "piops.redisEnv" -}}
{{- include "piops.redisCheck" . -}}
{{- $sentinels := include "piops.redisSentinels" . -}}
{{- if $sentinels -}}
- name: REDIS_SENTINELS
  value: {{ $sentinels | quote }}
- name: REDIS_SENTINEL_SERVICE
  value: {{ include "piops.redisSentinelService" . | quote }}
{{- else -}}
- name: REDIS_HOST
  value: {{ include "piops.redisHost" . | quote }}
- name: REDIS_PORT
  value: {{ include "piops.redisPort" . | quote }}
{{- end }}
{{- if and (not .Values.redis.deploy) .Values.redis.external.username }}
- name: REDIS_USERNAME
  value: {{ .Values.redis.external.username | quote }}
{{- end }}
{{- if and (not .Values.redis.deploy) .Values.redis.external.passwordSecret.name }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.external.passwordSecret.name }}
      key: {{ .Values.redis.external.passwordSecret.key }}
{{- end }}
{{- if and (not .Values.redis.deploy) .Values.redis.external.tls.enabled }}
- name: REDIS_TLS
  value: "true"
{{- with include "piops.redisCaFile" . }}
- name: REDIS_TLS_CA_FILE
  value: {{ . | quote }}
{{- end }}
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
