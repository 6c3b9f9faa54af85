import { parse } from 'csv-parse';
import type { SandboxAnswer, SandboxRequest } from '../core/sandbox-types';

/** What Lytics answers on success (collect JSON and bulk CSV), for the local sandbox. */
export function lyticsSandboxAnswer(request: SandboxRequest): SandboxAnswer | undefined {
  if (request.method !== 'POST' || !/^\/collect\/(json|bulk)\/[^/?]+/.test(request.path)) return undefined;
  const csv = (request.body as { csv?: { rows: number } } | undefined)?.csv;
  const count = Array.isArray(request.body) ? request.body.length : csv ? csv.rows : request.body ? 1 : 0;
  return { status: 200, body: { status: 200, message: 'success', data: { message_count: count, rejected_count: 0 } }, summary: `${count} record(s)` };
}

/**
 * A bulk CSV can be hundreds of MB: count its records as it streams (quoted newlines included, as
 * Lytics parses them), keep none of it.
 */
export function lyticsSandboxBody(path: string, body: NodeJS.ReadableStream): Promise<unknown> | undefined {
  if (!path.includes('/collect/bulk/')) return undefined;
  return (async () => {
    let records = 0;
    let bytes = 0;
    body.on('data', (chunk: Buffer) => (bytes += chunk.length));
    try {
      for await (const _record of body.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true }))) records++;
    } catch {
      /* malformed CSV: the count stops where parsing did */
    }
    return { csv: { bytes, rows: Math.max(0, records - 1) } };
  })();
}
