import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runJob } from '../local/run-job';
import { writeExportCsv } from './support/csv';

export interface CsvImportFigure {
  rows: number;
  requests: number;
  seconds: number;
  /** Of `seconds`, the first pass: reading and parsing the whole file (csv-parse) before sending anything. */
  checkSeconds: number;
  /** CPU time (user + system) of the job's process while the handler ran. */
  cpuSeconds: number;
  rowsPerSecond: number;
  /** The job's process alone at its peak (VmHWM): the handler runs in a child process, the emulators stay in this one. */
  peakRssMb: number;
  /** The job's process just before the handler started (Node, tsx, the SDK and the handler's modules loaded). */
  rssBeforeMb: number;
  /** This process (the embedded S3 holding the whole file, the Lytics sandbox) at its highest while the job ran. */
  emulatorsPeakRssMb: number;
  fileMb: number;
}

/**
 * The Lytics CSV import of a generated `rows`-row Braze segment export (17 columns, ~215 bytes a
 * row) through `npm run import:lytics`'s code path: embedded S3 and the Lytics sandbox in this
 * process (always: LYTICS_* URLs from the environment are ignored here), the Lambda handler in a
 * child process of its own, so its memory is measured apart. Rows per second cover the handler
 * only (both reads of S3, the parse, the bulk requests and the sandbox's answers), not generating
 * or uploading the file.
 */
export async function benchCsvImport(rows: number, rowsPerRequest?: number): Promise<CsvImportFigure> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-csv-'));
  try {
    const file = path.join(dir, `segment-export-${rows}.csv`);
    await writeExportCsv(file, rows);
    const env: Record<string, string> = { LOG_LEVEL: 'SILENT' };
    if (rowsPerRequest !== undefined) env.LYTICS_CSV_ROWS_PER_REQUEST = String(rowsPerRequest);
    const figures = await runJob({ job: 'lytics-csv-import', file, env, log: () => undefined, isolate: true });
    return {
      rows: figures.rows,
      requests: figures.requests,
      seconds: figures.seconds,
      checkSeconds: figures.checkSeconds ?? 0,
      cpuSeconds: figures.cpuSeconds,
      rowsPerSecond: figures.rowsPerSecond,
      peakRssMb: figures.peakRssMb,
      rssBeforeMb: figures.rssBeforeMb,
      emulatorsPeakRssMb: figures.emulatorsPeakRssMb ?? 0,
      fileMb: figures.fileMb,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
