// The progress line of `sparkify-lake run` on a terminal:
//   scan   3/8 shards  412.0 MiB of 1.0 GiB  187.3 MB/s  4,021,337 rows
// Pure formatting (formatProgress) plus a reporter that redraws one line at most every 100 ms.
// Nothing is drawn when the stream is not a TTY: scripts get only the final summary.
import type { Stage } from '../run/layout.js';
import { formatBytes } from '../run/quantity.js';
import type { BuildPlan, ScanPlan } from '../run/types.js';
import type { ShardProgress } from '../stages/shardContext.js';
import type { RunClock, RunReporter } from './runLocal.js';

export interface StageProgress {
  stage: Stage;
  shards: number;
  done: number;
  bytes: number;
  totalBytes: number;
  rows: number;
  /** Seconds since the stage started. */
  seconds: number;
}

export function formatProgress(p: StageProgress): string {
  const rate = p.seconds > 0 ? p.bytes / 1e6 / p.seconds : 0;
  return [
    p.stage.padEnd(5),
    `${p.done}/${p.shards} shards`,
    `${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`,
    `${rate.toFixed(1)} MB/s`,
    `${p.rows.toLocaleString('en-US')} rows`,
  ].join('  ');
}

export class TtyProgress implements RunReporter {
  private stage: Stage | null = null;
  private shards = 0;
  private totalBytes = 0;
  private started = 0;
  private done = new Set<number>();
  private perShard = new Map<number, ShardProgress>();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly clock: RunClock,
  ) {}

  static forStream(stream: NodeJS.WriteStream, clock: RunClock): RunReporter {
    return stream.isTTY ? new TtyProgress(stream, clock) : {};
  }

  phase(phase: string, detail?: string): void {
    if (phase === 'scan' || phase === 'build') return;
    this.line(`${phase}${detail ? ` ${detail}` : ''}…`, true);
  }

  stagePlanned(stage: Stage, plan: ScanPlan | BuildPlan): void {
    this.stage = stage;
    this.shards = plan.shards;
    this.totalBytes = plan.inputBytes;
    this.started = this.clock.now();
    this.done = new Set();
    this.perShard = new Map();
    this.draw(true);
  }

  shardProgress(stage: Stage, index: number, p: ShardProgress): void {
    if (stage !== this.stage) return;
    this.perShard.set(index, p);
    this.draw(false);
  }

  shardDone(stage: Stage, index: number): void {
    if (stage !== this.stage) return;
    this.done.add(index);
    this.draw(this.done.size === this.shards);
    if (this.done.size === this.shards) this.end();
  }

  /** Leaves the last line on screen. */
  end(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  private draw(force: boolean): void {
    if (!this.stage) return;
    const now = this.clock.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    let bytes = 0;
    let rows = 0;
    for (const p of this.perShard.values()) {
      bytes += p.bytes;
      rows += p.rows;
    }
    const text = formatProgress({ stage: this.stage, shards: this.shards, done: this.done.size, bytes: Math.min(bytes, this.totalBytes), totalBytes: this.totalBytes, rows, seconds: (now - this.started) / 1000 });
    this.line(text, false);
  }

  private line(text: string, newline: boolean): void {
    const width = this.stream.columns ?? 100;
    this.stream.write(`\r\x1b[2K${text.slice(0, width - 1)}${newline ? '\n' : ''}`);
    this.drawn = !newline;
  }
}
