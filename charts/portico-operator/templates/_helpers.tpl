{{/* Names and labels shared by the templates. The objects keep AKO's names (ako, ako-sa,
avi-k8s-config, avi-secret, avi-lb) so AKO's runbooks and kubectl habits still apply. */}}

{{- define "portico.name" -}}ako{{- end }}

{{- define "portico.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portico.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "portico.labels" -}}
{{ include "portico.selectorLabels" . }}
app.kubernetes.io/part-of: portico
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* An AKO values file names AKO's own image; the operator that runs is always Portico's. */}}
{{- define "portico.image" -}}
{{- $repo := .Values.image.repository | default "ghcr.io/portico/portico-operator" -}}
{{- if or (hasSuffix "/ako" $repo) (eq $repo "ako") -}}
{{- $repo = "ghcr.io/portico/portico-operator" -}}
{{- end -}}
{{ $repo }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The controller URL: controllerHost is host or IP[:port] as in AKO; https unless a scheme is given. */}}
{{- define "portico.controllerURL" -}}
{{- $host := .Values.ControllerSettings.controllerHost | default "" | toString | trim -}}
{{- if contains "://" $host -}}{{ $host }}{{- else -}}https://{{ $host }}{{- end -}}
{{- end }}

{{/* "true"/"false" from a boolean or AKO's quoted boolean. */}}
{{- define "portico.bool" -}}
{{- if kindIs "bool" . -}}{{ . }}{{- else -}}{{ eq (lower (toString .)) "true" }}{{- end -}}
{{- end }}

{{/* Leader election runs only with two replicas (AKO 2.1.1 skips it for one). */}}
{{- define "portico.ha" -}}
{{- if gt (int .Values.replicaCount) 1 -}}true{{- end -}}
{{- end }}
