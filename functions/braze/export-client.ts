import * as z from 'zod/mini';
import { ConfigError, PermanentDeliveryError, ValidationError } from '../core/errors';
import { type HttpClient, joinUrl } from '../core/http';

/** A Braze segment as `/segments/list` names it. */
export interface BrazeSegment {
  id: string;
  name: string;
}

/**
 * An opened export download: its body when ready; `missing` on 403/404 (not there yet, or no longer:
 * presigned URLs expire); `unavailable` on 429/5xx or a network error.
 */
export type ExportDownload = AsyncIterable<Uint8Array> | 'missing' | 'unavailable';

export interface BrazeExportClientOptions {
  /** BRAZE_REST_ENDPOINT. */
  endpoint: string;
  /** The REST API key, read when a call is made (from the secret store). */
  apiKey: () => Promise<string>;
  /** Braze's own calls go through it (it holds the retry policy). */
  http: HttpClient;
  /** Downloads the export (the presigned URL takes no credential); tests pass their own. */
  download?: typeof fetch;
}

/** Braze lists 100 segments per page. */
const SEGMENTS_PER_PAGE = 100;
/** A list longer than this many pages is a loop, not a workspace. */
const MAX_SEGMENT_PAGES = 1_000;

const segmentsPageSchema = z.object({ segments: z.array(z.object({ id: z.string().check(z.minLength(1)), name: z.string() })) });
const exportAnswerSchema = z.object({ url: z.optional(z.nullable(z.string())), object_prefix: z.optional(z.string()) });

/**
 * Braze's segment export, as the nightly ODP sync reads it: `GET /segments/list` (every page),
 * `POST /users/export/segment` (zip, no export storage configured in Braze) and the download URL
 * that answers. Faults are HttpClient's (401/403: DestinationConfigError; 429/5xx retried); an
 * answer of the wrong shape is a ValidationError naming the endpoint.
 */
export class BrazeExportClient {
  private readonly download: typeof fetch;

  constructor(private readonly options: BrazeExportClientOptions) {
    this.download = options.download ?? fetch;
  }

  /** Every segment Braze lists, page after page, in its order (oldest first). */
  async listSegments(deadline: number): Promise<BrazeSegment[]> {
    const all: BrazeSegment[] = [];
    for (let page = 0; page < MAX_SEGMENT_PAGES; page++) {
      const segments = await this.segmentsPage(page, deadline);
      all.push(...segments);
      if (segments.length < SEGMENTS_PER_PAGE) return all;
    }
    throw new ValidationError(`Braze /segments/list: more than ${MAX_SEGMENT_PAGES} pages`);
  }

  /** Asks for a zip export of `fields` for the segment; returns Braze's download URL (presigned: never log it). */
  async requestExport(segmentId: string, fields: readonly string[], deadline: number): Promise<string> {
    const response = await this.options.http.send(
      {
        method: 'POST',
        url: joinUrl(this.options.endpoint, 'users/export/segment'),
        headers: await this.headers(),
        body: JSON.stringify({ segment_id: segmentId, fields_to_export: fields, output_format: 'zip' }),
      },
      { label: 'braze users export segment', deadline },
    );
    const parsed = z.safeParse(exportAnswerSchema, parseJson(response.text));
    if (!parsed.success) throw new ValidationError(`Braze /users/export/segment for segment ${segmentId}: unexpected answer`);
    if (!parsed.data.url) {
      throw new ConfigError(
        `Braze wrote the export of segment ${segmentId} to the cloud storage configured in Braze (no download URL in its answer); ` +
          'this job reads the download URL Braze returns when no export storage is configured',
      );
    }
    return parsed.data.url;
  }

  /** Opens the download (see ExportDownload); any other answer is a PermanentDeliveryError. */
  async openExport(url: string, signal: AbortSignal): Promise<ExportDownload> {
    let response: Response;
    try {
      response = await this.download(url, { signal });
    } catch {
      return 'unavailable';
    }
    if (response.ok && response.body) return response.body as unknown as AsyncIterable<Uint8Array>;
    await response.body?.cancel();
    if (response.status === 403 || response.status === 404) return 'missing';
    if (response.status === 429 || response.status >= 500) return 'unavailable';
    throw new PermanentDeliveryError(`the export download answered ${response.status}`, response.status);
  }

  private async segmentsPage(page: number, deadline: number): Promise<BrazeSegment[]> {
    const response = await this.options.http.send(
      { method: 'GET', url: joinUrl(this.options.endpoint, `segments/list?page=${page}&sort_direction=asc`), headers: await this.headers() },
      { label: 'braze segments list', deadline },
    );
    const parsed = z.safeParse(segmentsPageSchema, parseJson(response.text));
    if (!parsed.success) throw new ValidationError(`Braze /segments/list page ${page}: not a segment list (segments[].id and .name expected)`);
    return parsed.data.segments.map(({ id, name }) => ({ id, name }));
  }

  private async headers(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.options.apiKey()}`, 'content-type': 'application/json' };
  }
}

/** The answer's JSON, or undefined when it is not JSON (the schema then names what was expected). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
