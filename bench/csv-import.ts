import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runJob } from '../local/run-job';
import { writeExportCsv } from './support/csv';

export interface CsvImportFigure {
  rows: number;
  requests: number;
  seconds: number;
  rowsPerSecond: number;
  /** Highest RSS sampled while the handler ran; the embedded S3 holds the file in the same process (about fileMb of it). */
  peakRssMb: number;
  fileMb: number;
}

/**
 * The Lytics CSV import of a generated `rows`-row Braze segment export (17 columns, ~215 bytes a
 * row) through `npm run import:lytics`'s code path: embedded S3, the Lambda handler, the Lytics
 * sandbox (always: LYTICS_* URLs from the environment are ignored here). Rows per second cover
 * the handler only (download, parse, re-chunk, upload), not generating or uploading the file.
 */
export async function benchCsvImport(rows: number, rowsPerRequest?: number): Promise<CsvImportFigure> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-csv-'));
  try {
    const file = path.join(dir, `segment-export-${rows}.csv`);
    await writeExportCsv(file, rows);
    const env: Record<string, string> = { LOG_LEVEL: 'SILENT' };
    if (rowsPerRequest !== undefined) env.LYTICS_CSV_ROWS_PER_REQUEST = String(rowsPerRequest);
    const figures = await runJob({ job: 'lytics-csv-import', file, env, log: () => undefined });
    return {
      rows: figures.rows,
      requests: figures.requests,
      seconds: figures.seconds,
      rowsPerSecond: figures.rowsPerSecond,
      peakRssMb: figures.peakRssMb,
      fileMb: figures.fileMb,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
