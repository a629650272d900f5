{{/* Names and labels shared by every template. */}}

{{- define "joule.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "joule.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "joule.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "joule.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The release namespace, refusing a values file meant for another one. */}}
{{- define "joule.namespace" -}}
{{- if and .Values.namespace (ne .Values.namespace .Release.Namespace) -}}
{{- fail (printf "these values are for namespace %q, but the release namespace is %q (use -n %s)" .Values.namespace .Release.Namespace .Values.namespace) -}}
{{- end -}}
{{- .Release.Namespace -}}
{{- end -}}

{{- define "joule.selectorLabels" -}}
app.kubernetes.io/name: {{ include "joule.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "joule.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "joule.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ev-platform
{{- end -}}

{{- define "joule.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "joule.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "joule.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "joule.secretName" -}}
{{- default (include "joule.fullname" .) .Values.secret.name -}}
{{- end -}}

{{- define "joule.rabbitmqName" -}}
{{- default (printf "%s-rabbitmq" (include "joule.fullname" .)) .Values.rabbitmq.cluster.name -}}
{{- end -}}

{{/* Annotations making a resource exist before the migration Job, which needs it. */}}
{{- define "joule.preHookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: "-10"
helm.sh/hook-delete-policy: before-hook-creation
{{- end -}}

{{/* One env entry per Secret key; `keys` are required, `optionalKeys` may be absent. */}}
{{- define "joule.secretEnv" -}}
{{- $root := .root -}}
{{- range .keys }}
{{- if not (and (eq . "AMQP_URL") $root.Values.amqpUrlFrom.secretName) }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "joule.secretName" $root }}
      key: {{ . }}
{{- end }}
{{- end }}
{{- range .optionalKeys }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "joule.secretName" $root }}
      key: {{ . }}
      optional: true
{{- end }}
{{- end -}}

{{- define "joule.stateVolume" -}}
- name: state
  emptyDir:
    sizeLimit: {{ .Values.stateDir.sizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.manifest.content }}
- name: manifest
  configMap:
    name: {{ include "joule.fullname" . }}-manifest
{{- end }}
{{- end -}}

{{- define "joule.stateMounts" -}}
- name: state
  mountPath: {{ .Values.stateDir.path }}
- name: tmp
  mountPath: /tmp
{{- if .Values.manifest.content }}
# subPath: only spin.toml is replaced; the wasm files beside it stay the image's.
- name: manifest
  mountPath: {{ .Values.manifest.path }}
  subPath: spin.toml
  readOnly: true
{{- end }}
{{- end -}}
