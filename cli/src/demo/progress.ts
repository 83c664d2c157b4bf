// The demo's live view of a SparkifyLakeJob: a pure projection of its status into one short line,
// and a writer that redraws that line in place on a terminal (or prints each change on its own
// line when the output is a file or a pipe, so logs stay readable).
import type { LakeJobStatus } from '../../../operator/src/crd/types.js';

export interface ProgressView {
  phase: string;
  /** The stage that runs now (the last one the status lists). */
  stage?: { name: string; completed: number; total: number };
  partitions: { landed: number; total: number };
  rows: number;
  records: { read: number; rejected: number };
}

export function progressOf(status: LakeJobStatus | undefined): ProgressView {
  const stages = status?.stages ?? [];
  const last = stages[stages.length - 1];
  const tables = status?.tables ?? [];
  return {
    phase: status?.phase ?? 'Pending',
    ...(last ? { stage: { name: last.name, completed: last.completed ?? 0, total: last.total ?? 0 } } : {}),
    partitions: {
      landed: tables.reduce((s, t) => s + (t.partitionsLanded ?? 0), 0),
      total: tables.reduce((s, t) => s + (t.partitions ?? 0), 0),
    },
    rows: status?.rows ?? tables.reduce((s, t) => s + (t.rows ?? 0), 0),
    records: { read: status?.records?.read ?? 0, rejected: status?.records?.rejected ?? 0 },
  };
}

const n = (x: number) => x.toLocaleString('en-US');

/** `Building   build 1/2 shards   partitions 134/137   rows 16,396   records 20,150 read, 0 rejected` */
export function progressLine(v: ProgressView): string {
  const parts = [v.phase.padEnd(10)];
  if (v.stage) parts.push(`${v.stage.name} ${v.stage.completed}/${v.stage.total} shards`);
  if (v.partitions.total > 0) parts.push(`partitions ${n(v.partitions.landed)}/${n(v.partitions.total)} landed`);
  if (v.rows > 0) parts.push(`rows ${n(v.rows)}`);
  if (v.records.read > 0) parts.push(`records ${n(v.records.read)} read, ${n(v.records.rejected)} rejected`);
  return parts.join('   ');
}

export interface LineSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * One status line. On a terminal it is redrawn in place (carriage return + erase line), cut to the
 * terminal's width so it never wraps; elsewhere each distinct line is printed once.
 */
export class LiveLine {
  private last: string | undefined;
  private lastLine = '';
  private drawn = false;

  constructor(private readonly out: LineSink) {}

  /** `key` says what counts as a change (default: the line), so a ticking clock alone prints nothing new. */
  update(line: string, key = line): void {
    if (this.out.isTTY) {
      if (line === this.lastLine) return;
      this.lastLine = line;
      // A pseudo-terminal may report 0 columns: treat that as unknown.
      const width = Math.max(20, (this.out.columns || 100) - 1);
      this.out.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
      this.drawn = true;
    } else if (key !== this.last) {
      this.out.write(`${line}\n`);
    }
    this.last = key;
  }

  /** Leaves the last line on screen and moves below it. */
  end(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
