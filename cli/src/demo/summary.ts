// The text the demo ends with: what was built, how to query it, and how to look at the cluster.
// Pure, so a test can read exactly what a person reads.
export interface SummaryInput {
  inspect: string;
  output: string;
  lakeDir: string;
  files: number;
  query: string;
  /** The query's result, when DuckDB could run it here. */
  result?: string;
  kubeconfig: string;
  binDir: string;
  lakeJob: { name: string; namespace?: string };
  /** The chart's operator: its Lease names the replica that leads (the one whose logs say anything). */
  operator: { namespace: string; deployment: string; release: string; lease: string };
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  /** True when the cluster keeps running until Ctrl-C. */
  stays: boolean;
}

export function demoSummary(s: SummaryInput): string {
  const ns = s.lakeJob.namespace ? ` -n ${s.lakeJob.namespace}` : '';
  return [
    `The lake (the same view as \`sparkify-lake inspect ${s.output}\`):`,
    '',
    indent(s.inspect),
    '',
    `Its ${s.files} committed files are copied to ${s.lakeDir}/ — paste this into duckdb:`,
    '',
    indent(s.query),
    ...(s.result ? ['', indent(s.result)] : []),
    '',
    s.stays ? 'The cluster keeps running. In another terminal:' : 'While a demo runs (`npm start` in a terminal), point kubectl at it with:',
    `  export KUBECONFIG=${s.kubeconfig}`,
    `  export PATH="${s.binDir}:$PATH"        # the kubectl and helm this repo unpacked`,
    `  kubectl get slj${ns}                       # phase, reason, shards, progress, rows, rejected`,
    `  kubectl describe slj ${s.lakeJob.name}${ns}              # conditions and events`,
    // Not `logs deploy/…`: that picks any replica, often the standby, whose log is nearly empty.
    `  kubectl -n ${s.operator.namespace} logs $(kubectl -n ${s.operator.namespace} get lease ${s.operator.lease} -o jsonpath='{.spec.holderIdentity}')   # the leading operator's JSON logs`,
    `  helm -n ${s.operator.namespace} status ${s.operator.release}`,
    `  export AWS_ENDPOINT_URL=${s.s3.endpoint} AWS_ACCESS_KEY_ID=${s.s3.accessKeyId} AWS_SECRET_ACCESS_KEY=${s.s3.secretAccessKey}   # the embedded S3, e.g. for: npx sparkify-lake inspect ${s.output}`,
    ...(s.stays ? ['', 'Press Ctrl-C to stop the cluster (every pod and the S3 server stop with it).'] : []),
  ].join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
}
