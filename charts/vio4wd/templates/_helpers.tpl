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
{{- /*
The pod's hugepage limit: the socket memory reserved at start on each NUMA node (768 MiB, 2750
with jumbo frames or TSO, as the original's --socket-mem), or, when more, what every relay of
VIRTIOFWD_MAX_RELAYS needs on one node (6.5 MiB each, 10.5 with 9 KiB buffers, plus 16 MiB of
the EAL's own; make bench measures 6.0 and 10.3) with the other nodes' reservations: DPDK takes
hugepages beyond its reservation as relays come, and the limit must let it. .Values.hugepages
overrides it.
*/ -}}
{{- define "vio4wd.hugepages" -}}
{{- if .Values.hugepages }}{{ .Values.hugepages }}{{ else }}
{{- $perNode := 768 }}
{{- $halfMiBPerRelay := 13 }}
{{- if or (include "vio4wd.flag" .Values.config.VIRTIOFWD_JUMBO) (include "vio4wd.flag" .Values.config.VIRTIOFWD_TSO) }}
{{- $perNode = 2750 }}
{{- $halfMiBPerRelay = 21 }}
{{- end }}
{{- $nodes := int .Values.numaNodes }}
{{- $relays := int (default "256" .Values.config.VIRTIOFWD_MAX_RELAYS) }}
{{- $reserved := mul $perNode $nodes }}
{{- $relayed := add (mul $perNode (sub $nodes 1)) 16 (div (mul $relays $halfMiBPerRelay) 2) }}
{{- max $reserved $relayed }}Mi
{{- end }}
{{- end }}

{{/* "true" when a config value is on as the daemon reads it (y/yes/true/1/on). */}}
{{- define "vio4wd.flag" -}}
{{- if has (lower (toString (default "" .))) (list "y" "yes" "true" "1" "on") }}true{{ end }}
{{- end }}
