// Generated benchmark inputs, cached under .cache/bench-data/<params>/ so repeated benchmark runs
// (and both contenders) read the very same files. A dataset counts as present only when its
// `complete.json` exists: that file is written last, so an interrupted generation is redone.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStorage } from '../job-runner/src/index.js';
import { generate, type GenerateOptions, type GenerateSummary } from '../generator/src/index.js';

/** Average bytes of one generated event line (measured: 464 MB for 1M events). */
export const BYTES_PER_EVENT = 464;

export interface BenchData {
  dir: string;
  songs: string;
  logs: string;
  summary: GenerateSummary;
  /** Whether this call generated it (false: found in the cache). */
  generated: boolean;
}

export function dataKey(o: GenerateOptions): string {
  const parts = [`songs-${o.songs}`, `events-${o.events}`, `seed-${o.seed ?? 1}`];
  if (o.artists !== undefined) parts.push(`artists-${o.artists}`);
  if (o.gzipShare) parts.push(`gz-${o.gzipShare}`);
  if (o.startDate) parts.push(`from-${o.startDate}`);
  if (o.days !== undefined) parts.push(`days-${o.days}`);
  return parts.join('_');
}

export async function benchData(cacheRoot: string, o: GenerateOptions, log: (line: string) => void): Promise<BenchData> {
  const dir = join(cacheRoot, dataKey(o));
  const marker = join(dir, 'complete.json');
  const paths = { dir, songs: join(dir, 'song_data'), logs: join(dir, 'log_data') };
  if (existsSync(marker)) return { ...paths, summary: JSON.parse(readFileSync(marker, 'utf8')) as GenerateSummary, generated: false };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`generating ${o.songs.toLocaleString('en-US')} songs and ${o.events.toLocaleString('en-US')} events into ${dir} …`);
  const summary = await generate(openStorage(dir), o);
  writeFileSync(marker, JSON.stringify(summary, null, 2));
  return { ...paths, summary, generated: true };
}
