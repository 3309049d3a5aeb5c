{{/* The book's Jobs and CronJob (chapter 10 listings), with this release's image and Redis. */}}

{{- define "piops.jobPodSpec" -}}
{{- $root := .root -}}
restartPolicy: {{ .restartPolicy }}
automountServiceAccountToken: false
securityContext:
  {{- include "piops.podSecurity" $root | nindent 2 }}
containers:
  - name: pi-container
    image: {{ include "piops.image" (dict "root" $root "image" $root.Values.worker.image) | quote }}
    {{- with .args }}
    args: {{ toJson . }}
    {{- end }}
    env:
      {{- include "piops.redisEnv" $root | nindent 6 }}
      {{- include "piops.otelEnv" (dict "root" $root "service" "piops-worker") | nindent 6 }}
      {{- with .env }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    resources:
      {{- toYaml $root.Values.worker.resources | nindent 6 }}
    securityContext:
      {{- include "piops.containerSecurity" $root | nindent 6 }}
    volumeMounts:
      - name: logs
        mountPath: /app/logs
      - name: tmp
        mountPath: /tmp
      {{- if include "piops.redisCaFile" $root }}
      {{- include "piops.redisCaMount" $root | nindent 6 }}
      {{- end }}
volumes:
  - name: logs
    emptyDir: {}
  - name: tmp
    emptyDir: {}
  {{- if include "piops.redisCaFile" $root }}
  {{- include "piops.redisCaVolume" $root | nindent 2 }}
  {{- end }}
{{- end -}}

{{- define "piops.jobLabels" -}}
{{ include "piops.labels" .root }}
app.kubernetes.io/component: {{ .component }}
piops.io/managed: "true"
{{- end -}}

{{/* Listing 10.12: the queue-draining worker Job. */}}
{{- define "piops.jobWorker" -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: jobworker
  labels:
    {{- include "piops.jobLabels" (dict "root" . "component" "job") | nindent 4 }}
spec:
  backoffLimit: 2
  parallelism: 2
  template:
    metadata:
      labels:
        {{- include "piops.jobLabels" (dict "root" . "component" "job") | nindent 8 }}
        pod: pi
    spec:
      {{- include "piops.jobPodSpec" (dict "root" . "restartPolicy" "OnFailure" "env" (list (dict "name" "COMPLETE_WHEN_EMPTY" "value" "1"))) | nindent 6 }}
{{- end -}}

{{/* Listing 10.9: the addwork Job. */}}
{{- define "piops.jobAddwork" -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: addwork
  labels:
    {{- include "piops.jobLabels" (dict "root" . "component" "job") | nindent 4 }}
spec:
  backoffLimit: 2
  template:
    metadata:
      labels:
        {{- include "piops.jobLabels" (dict "root" . "component" "job") | nindent 8 }}
    spec:
      {{- include "piops.jobPodSpec" (dict "root" . "restartPolicy" "Never" "args" (list "add-tasks" "--count" (toString .Values.addwork.cronJob.count))) | nindent 6 }}
{{- end -}}

{{/* Listing 10.13: an Indexed Job, each pod running the task at its index. */}}
{{- define "piops.jobIndexed" -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: indexed
  labels:
    {{- include "piops.jobLabels" (dict "root" . "component" "job") | nindent 4 }}
spec:
  completions: 5
  parallelism: 3
  completionMode: Indexed
  template:
    metadata:
      labels:
        {{- include "piops.jobLabels" (dict "root" . "component" "job") | nindent 8 }}
        pod: framerender
    spec:
      {{- include "piops.jobPodSpec" (dict "root" . "restartPolicy" "Never" "env" (list (dict "name" "TASKS" "value" "1000000,2000000,3000000,4000000,5000000"))) | nindent 6 }}
{{- end -}}

{{/* Listing 10.10: the addwork CronJob. */}}
{{- define "piops.cronJobAddwork" -}}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: addwork
  labels:
    {{- include "piops.jobLabels" (dict "root" . "component" "cronjob") | nindent 4 }}
spec:
  schedule: {{ .Values.addwork.cronJob.schedule | quote }}
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        metadata:
          labels:
            {{- include "piops.jobLabels" (dict "root" . "component" "job") | nindent 12 }}
        spec:
          {{- include "piops.jobPodSpec" (dict "root" . "restartPolicy" "Never" "args" (list "add-tasks" "--count" (toString .Values.addwork.cronJob.count))) | nindent 10 }}
{{- end -}}
