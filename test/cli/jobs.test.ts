import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bridge } from './support';

/** `bridge import` and `bridge sync` run the catalogue's jobs locally, into the sandboxes (no URL set). */
describe('bridge import and bridge sync', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-jobs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("imports a CSV with the job's own options and prints the progress and summary", async () => {
    const file = path.join(dir, 'export.csv');
    writeFileSync(file, ['external_id,email', ...Array.from({ length: 5 }, (_, i) => `u-${i},u${i}@example.com`)].join('\n'));

    const run = await bridge(['import', 'lytics-csv-import', file, '--rows-per-request', '2']);

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('running lytics-csv-import into lytics (sandbox)');
    expect(run.out).toMatch(/imported 5 rows in 3 requests \(0 rejected by lytics\)/);
  });

  it('runs a scheduled job once and prints its closing summary', async () => {
    const run = await bridge(['sync', 'odp-segment-sync'], { env: { ODP_SEGMENTS: 'VIP' } });

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/odp-segment-sync finished in [\d.]+ s/);
    expect(run.out).toMatch(/segments 1, usersRead 120, profilesSent 108, rejected 0, skipped 12/);
  });

  it('refuses an option the job does not have, and a job of the other kind (exit 2)', async () => {
    const wrongKind = await bridge(['import', 'odp-segment-sync', 'x.csv']);
    const unknownJob = await bridge(['sync', 'lytics-csv-import']);

    expect(wrongKind.code).toBe(2);
    expect(wrongKind.err).toContain('no upload job odp-segment-sync');
    expect(unknownJob.code).toBe(2);
    expect(unknownJob.err).toContain('no scheduled job lytics-csv-import');
  });
});
