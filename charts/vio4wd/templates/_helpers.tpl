{{- define "vio4wd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vio4wd.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "vio4wd.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "vio4wd.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "vio4wd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vio4wd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "vio4wd.labels" -}}
{{ include "vio4wd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: dataplane
app.kubernetes.io/part-of: vio4wd
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "vio4wd.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Hugepage memory as the daemon asks for it: per NUMA node with workers. */}}
{{- define "vio4wd.hugepages" -}}
{{- $perNode := 768 }}
{{- if or (include "vio4wd.flag" .Values.config.VIRTIOFWD_JUMBO) (include "vio4wd.flag" .Values.config.VIRTIOFWD_TSO) }}
{{- $perNode = 2750 }}
{{- end }}
{{- mul $perNode (int .Values.numaNodes) }}Mi
{{- end }}

{{/* "true" when a config value is on as the daemon reads it (y/yes/true/1/on). */}}
{{- define "vio4wd.flag" -}}
{{- if has (lower (toString (default "" .))) (list "y" "yes" "true" "1" "on") }}true{{ end }}
{{- end }}
