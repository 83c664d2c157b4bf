{{/*
Names. The operator's objects are "<release>-operator": the ServiceAccount and RBAC templates use the
same name, so the Deployment runs under exactly the rights rbac.yaml grants.
*/}}
{{- define "sparkify-lake.operatorName" -}}
{{- printf "%s-operator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sparkify-lake.selectorLabels" -}}
app.kubernetes.io/name: sparkify-lake
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "sparkify-lake.labels" -}}
{{ include "sparkify-lake.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: sparkify-lake
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* repository[:tag][@digest] with the tag defaulting to appVersion; a digest pins the image. */}}
{{- define "sparkify-lake.image" -}}
{{- $img := index . 0 -}}
{{- $root := index . 1 -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default $root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* Cross-field rules a JSON schema cannot say clearly. */}}
{{- define "sparkify-lake.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) -}}
{{- fail (printf "replicaCount is %d but leaderElection.enabled is false: two active operators would fight over the same lake jobs. Set leaderElection.enabled=true or replicaCount=1." (int .Values.replicaCount)) -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.service.enabled) -}}
{{- fail "metrics.serviceMonitor.enabled needs metrics.service.enabled: the ServiceMonitor scrapes the metrics Service." -}}
{{- end -}}
{{- end -}}

{{/*
The operator's rules on lake jobs, their Jobs, pods, Secrets and Events: granted cluster-wide by a
ClusterRole, or, with watchNamespaces, by a Role in each watched namespace (rbac.yaml). Why each
rule exists:
  sparkifylakejobs            list/watch (the informer; it never GETs one) to follow lake jobs; patch
                              only for metadata.finalizers (a merge patch; the operator never writes spec)
  sparkifylakejobs/status     update: the status it recomputes, PUT conditional on resourceVersion
  sparkifylakejobs/finalizers set ownerReferences with blockOwnerDeletion on the Jobs it creates
  jobs                        the scan and build Indexed Jobs: create, follow (list/watch), suspend
                              (patch), stop (delete)
  pods                        list by job-name, to name a failed or stuck shard's pod
  pods/log                    get, to quote a failed shard's last log lines
  secrets                     get only (never list/watch): the S3 credentials a lake job names
  events                      create, and patch to count a repeat (eventRecorder.ts), for kubectl describe
Every verb is one the operator's code sends (operator/src/kube/*.ts); the chart-install and operator
end-to-end tests run it under exactly these rules on the dev cluster, which enforces RBAC.
*/}}
{{- define "sparkify-lake.operatorRules" -}}
- apiGroups: ["lake.sparkify.io"]
  resources: ["sparkifylakejobs"]
  verbs: ["list", "watch", "patch"]
- apiGroups: ["lake.sparkify.io"]
  resources: ["sparkifylakejobs/status"]
  verbs: ["update"]
- apiGroups: ["lake.sparkify.io"]
  resources: ["sparkifylakejobs/finalizers"]
  verbs: ["update"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}

{{/* The labels of the RBAC objects and the ServiceAccount (no version: they rarely change). */}}
{{- define "sparkify-lake.rbacLabels" -}}
app.kubernetes.io/name: sparkify-lake
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
