// The demo applies examples/lakejob.yaml as a person would. The file names the embedded S3 at its
// usual address (127.0.0.1:4568); when the demo's S3 listens elsewhere (--s3-port) the same
// manifest is applied with spec.storage.endpoint pointed at it, and the demo says so.
import { parseAllDocuments, stringify } from 'yaml';

export interface LakeJobFile {
  /** The manifest to apply (the file's text when nothing had to change). */
  text: string;
  /** The endpoint written in the file, when it differs from the one used. */
  rewroteEndpoint?: string;
  name: string;
  namespace?: string;
  output: string;
}

interface Doc {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: { output?: string; storage?: { endpoint?: string } };
}

export function prepareLakeJob(text: string, endpoint: string, file = 'lakejob.yaml'): LakeJobFile {
  const docs = parseAllDocuments(text);
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
  const objects = docs.map((d) => d.toJS() as Doc | null).filter((o): o is Doc => o !== null);
  const jobs = objects.filter((o) => o.kind === 'SparkifyLakeJob');
  if (jobs.length !== 1) throw new Error(`${file}: expected exactly one SparkifyLakeJob, found ${jobs.length}`);
  const job = jobs[0]!;
  const name = job.metadata?.name;
  const output = job.spec?.output;
  if (!name || !output) throw new Error(`${file}: the SparkifyLakeJob needs metadata.name and spec.output`);
  const inFile = job.spec?.storage?.endpoint;
  const base = { name, output, ...(job.metadata?.namespace ? { namespace: job.metadata.namespace } : {}) };
  if (inFile === endpoint) return { text, ...base };
  job.spec!.storage = { ...job.spec!.storage, endpoint };
  return { text: objects.map((o) => stringify(o)).join('---\n'), ...(inFile ? { rewroteEndpoint: inFile } : {}), ...base };
}
