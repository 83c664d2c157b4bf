// Reads a ColumnBatch back as plain row objects, so tests compare values, not encodings.
import type { ColumnBatch } from '../../../job-runner/src/columnar/batch.js';

export type Row = Record<string, number | string | null>;

export function batchRows(batch: ColumnBatch): Row[] {
  const rows: Row[] = Array.from({ length: batch.length }, () => ({}));
  for (const { name, column } of batch.columns) {
    const lengthOk = column.kind === 'str' ? column.codes.length === batch.length : column.data.length === batch.length;
    if (!lengthOk || (column.valid && column.valid.length !== batch.length)) throw new Error(`column ${name}: length differs from batch length ${batch.length}`);
    for (let i = 0; i < batch.length; i++) {
      const present = column.valid === null || column.valid[i] === 1;
      if (!present) rows[i][name] = null;
      else if (column.kind === 'str') {
        const s = column.dict[column.codes[i]];
        if (s === undefined) throw new Error(`column ${name}: code ${column.codes[i]} outside its dictionary of ${column.dict.length}`);
        rows[i][name] = s;
      } else rows[i][name] = Number(column.data[i]);
    }
  }
  return rows;
}

export function allRows(batches: readonly ColumnBatch[]): Row[] {
  return batches.flatMap(batchRows);
}
