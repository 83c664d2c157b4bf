// DuckDB as the independent Parquet reader of the tests (@duckdb/node-api, in memory).
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface Duck {
  rows(sql: string): Promise<Record<string, unknown>[]>;
  /** Column name → DuckDB type of a query's result. */
  types(sql: string): Promise<Record<string, string>>;
  close(): void;
}

export async function openDuck(): Promise<Duck> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn: DuckDBConnection = await db.connect();
  return {
    async rows(sql) {
      return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    },
    async types(sql) {
      const r = await conn.runAndReadAll(sql);
      const names = r.columnNames();
      const types = r.columnTypes().map(String);
      return Object.fromEntries(names.map((n, i) => [n, types[i]]));
    },
    close() {
      conn.closeSync();
      db.closeSync();
    },
  };
}

/** A path inside a SQL string literal. */
export function sqlPath(p: string): string {
  return `'${p.replaceAll("'", "''")}'`;
}
