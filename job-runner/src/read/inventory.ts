// The run's input inventory: every song and log object under the two source roots, filtered the way
// Hadoop/Spark filter input folders, sorted, numbered. The order fixes `ordinal`, which decides
// "earliest record wins" everywhere downstream, so it is S3's key order (UTF-8 bytes) whatever
// order a server lists in.
import type { InputKind, InputObject, RunSpec } from '../run/types.js';
import { compareKeys } from '../storage/keys.js';
import { StorageError, type Storage } from '../storage/storage.js';

export const INPUT_EXTENSIONS = ['.json', '.jsonl', '.ndjson'] as const;

export type InputVerdict =
  | { take: true; compressed: boolean }
  | { take: false; why: 'hidden' | 'folder-marker' | 'extension' };

/**
 * Whether a listed key is an input. Hidden and underscore-prefixed names are skipped at any depth
 * (`_SUCCESS`, `.DS_Store`, `._x.json`, `_temporary/…`), as Hadoop's hidden-file filter does;
 * zero-byte keys ending in '/' are folder markers that consoles create.
 */
export function classifyInputKey(key: string, size: number): InputVerdict {
  if (key.endsWith('/')) return size === 0 ? { take: false, why: 'folder-marker' } : { take: false, why: 'extension' };
  if (key.split('/').some((seg) => seg.startsWith('.') || seg.startsWith('_'))) return { take: false, why: 'hidden' };
  const lower = key.toLowerCase();
  const compressed = lower.endsWith('.gz');
  const base = compressed ? lower.slice(0, -3) : lower;
  return INPUT_EXTENSIONS.some((ext) => base.endsWith(ext)) ? { take: true, compressed } : { take: false, why: 'extension' };
}

/** Lists song and log inputs, sorted (songs, then logs, each by key), with ordinals. */
export async function listInputs(spec: RunSpec, storageFor: (uri: string) => Storage): Promise<InputObject[]> {
  const songs = storageFor(spec.songs);
  const logs = storageFor(spec.logs);
  checkDisjoint(songs.root, logs.root);
  const [songObjects, logObjects] = await Promise.all([listRoot(songs, 'song'), listRoot(logs, 'log')]);
  return [...songObjects, ...logObjects].map((o, ordinal) => ({ ...o, ordinal }));
}

async function listRoot(storage: Storage, kind: InputKind): Promise<Omit<InputObject, 'ordinal'>[]> {
  const taken: Omit<InputObject, 'ordinal'>[] = [];
  let others = 0;
  const examples: string[] = [];
  for await (const o of storage.list()) {
    const v = classifyInputKey(o.key, o.size);
    if (v.take) {
      taken.push({ kind, key: o.key, size: o.size, compressed: v.compressed });
    } else if (v.why !== 'folder-marker') {
      others++;
      if (examples.length < 3) examples.push(JSON.stringify(o.key));
    }
  }
  if (taken.length === 0) {
    const seen = others === 0 ? 'it is empty' : `it holds ${others} other object${others === 1 ? '' : 's'}, e.g. ${examples.join(', ')}`;
    throw new StorageError('not-found', `no ${kind} input found under ${storage.root} (looked for ${INPUT_EXTENSIONS.map((e) => '*' + e).join(', ')}, optionally .gz; ${seen})`, false);
  }
  return taken.sort((a, b) => compareKeys(a.key, b.key));
}

/** Nested roots would list the same objects as songs and as logs. */
function checkDisjoint(songsRoot: string, logsRoot: string): void {
  if (songsRoot.startsWith(logsRoot) || logsRoot.startsWith(songsRoot)) {
    throw new StorageError('invalid', `the songs root ${songsRoot} and the logs root ${logsRoot} overlap: point them at separate folders (e.g. s3://raw/song_data/ and s3://raw/log_data/)`, false);
  }
}
