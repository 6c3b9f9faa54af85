import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Zip, ZipDeflate } from 'fflate';
import type { SandboxAnswer, SandboxRequest } from '../core/sandbox-types';

/** What Braze answers on success, for the local sandbox. */
export function brazeSandboxAnswer(request: SandboxRequest): SandboxAnswer | undefined {
  if (request.method === 'POST' && request.path === '/users/track') {
    const body = (request.body ?? {}) as Record<string, unknown[] | undefined>;
    const attributes = body.attributes?.length ?? 0;
    const events = body.events?.length ?? 0;
    const purchases = body.purchases?.length ?? 0;
    return {
      status: 201,
      body: {
        message: 'success',
        ...(attributes ? { attributes_processed: attributes } : {}),
        ...(events ? { events_processed: events } : {}),
        ...(purchases ? { purchases_processed: purchases } : {}),
      },
      summary: `${attributes + events + purchases} object(s)`,
    };
  }
  const trigger = /^\/(campaigns|canvas)\/trigger\/send$/.exec(request.path);
  if (request.method === 'POST' && trigger) return triggerAnswer(trigger[1] === 'canvas' ? 'canvas' : 'campaign', request);
  if (request.method === 'GET' && /^\/segments\/list(\?|$)/.test(request.path)) return segmentsAnswer(request);
  if (request.method === 'POST' && request.path === '/users/export/segment') return exportAnswer(request);
  const download = /^\/_exports\/([^/?]+)\.zip(\?|$)/.exec(request.path);
  if (request.method === 'GET' && download) return downloadAnswer(decodeURIComponent(download[1]!));
  return undefined;
}

/**
 * Sandbox campaign and Canvas ids that stand for one Braze would not send to: the answer is the
 * `201` with a `notice` Braze gives for a paused or archived Canvas (braze-inc/braze-docs
 * post_send_triggered_canvases.md, "Example success response"), so `npm start` shows such a
 * trigger parked, not delivered.
 */
export const SANDBOX_PAUSED_ID = 'sandbox-paused';
export const SANDBOX_ARCHIVED_ID = 'sandbox-archived';

/**
 * /campaigns/trigger/send and /canvas/trigger/send as Braze answers them: `201 {dispatch_id,
 * message: "success"}`; a recipient identified by `email` without `prioritization` refused with 400
 * (Braze: "If `email` is the identifier, you must include `prioritization`"; the message wording is
 * the sandbox's, Braze's own is not published); a paused or archived sandbox id answered with a notice.
 */
function triggerAnswer(kind: 'campaign' | 'canvas', request: SandboxRequest): SandboxAnswer {
  const body = (request.body ?? {}) as { campaign_id?: unknown; canvas_id?: unknown; recipients?: unknown };
  const recipients = Array.isArray(body.recipients) ? (body.recipients as Record<string, unknown>[]) : [];
  const summary = `${recipients.length} recipient(s) of a ${kind} trigger`;
  const unprioritised = recipients.findIndex((recipient) => recipient.email !== undefined && !Array.isArray(recipient.prioritization));
  if (unprioritised !== -1) {
    return {
      status: 400,
      body: { message: `recipients[${unprioritised}]: prioritization is required when email is the identifier` },
      summary: `${summary}: email without prioritization`,
    };
  }
  const id = kind === 'campaign' ? body.campaign_id : body.canvas_id;
  const name = kind === 'campaign' ? 'campaign' : 'Canvas';
  const dispatch = { dispatch_id: `sandbox-${Date.now()}`, message: 'success' };
  if (id === SANDBOX_PAUSED_ID) {
    return {
      status: 201,
      body: { notice: `The ${name} is paused. Resume the ${name} to ensure trigger requests will take effect.`, ...dispatch },
      summary: `${summary}: paused, nothing sent`,
    };
  }
  if (id === SANDBOX_ARCHIVED_ID) {
    return {
      status: 201,
      body: { notice: `The ${name} is archived. Unarchive the ${name} to ensure trigger requests will take effect.`, ...dispatch },
      summary: `${summary}: archived, nothing sent`,
    };
  }
  return { status: 201, body: dispatch, summary };
}

/**
 * Segments and segment exports (GET /segments/list, POST /users/export/segment and the download URL
 * the export answers with), as Braze answers them when no cloud storage is configured.
 *
 * BRAZE_SANDBOX_SEGMENT_USERS (read when an export is asked for): when set to a whole number, every
 * sandbox segment holds that many users instead of its own size (the benchmark sets 500000).
 */
export const SANDBOX_SEGMENTS: readonly { id: string; name: string; users: number }[] = [
  { id: 'sandbox-all-users', name: 'All Users', users: 2_500 },
  { id: 'sandbox-vip', name: 'VIP', users: 120 },
  { id: 'sandbox-lapsed', name: 'Lapsed 30 days', users: 600 },
];
const SEGMENTS_PER_PAGE = 100;
/** Braze writes one file per 5,000 users in an export. */
const USERS_PER_FILE = 5_000;
/** Users generated per read of the ZIP stream. */
const USERS_PER_CHUNK = 200;
/** Exports remembered at once (the oldest is forgotten first). */
const KEPT_EXPORTS = 100;

interface SandboxExport {
  segmentId: string;
  fields: readonly string[];
  users: number;
  /** GETs of the download URL so far: the first one finds it not ready. */
  downloads: number;
  /** Users generated by the ZIP streams of this export so far (for tests). */
  generated: number;
}

const exportsById = new Map<string, SandboxExport>();

/** Users generated so far by the download streams of an export (undefined for an unknown export). */
export function sandboxExportProgress(exportId: string): number | undefined {
  return exportsById.get(exportId)?.generated;
}

function segmentUsers(segment: { users: number }): number {
  const override = process.env.BRAZE_SANDBOX_SEGMENT_USERS;
  if (override !== undefined && /^\d+$/.test(override.trim())) return Number(override.trim());
  return segment.users;
}

function segmentsAnswer(request: SandboxRequest): SandboxAnswer {
  const query = new URL(request.path, 'http://sandbox').searchParams;
  const page = Math.max(0, Number.parseInt(query.get('page') ?? '0', 10) || 0);
  const ordered = query.get('sort_direction') === 'desc' ? [...SANDBOX_SEGMENTS].reverse() : SANDBOX_SEGMENTS;
  const segments = ordered
    .slice(page * SEGMENTS_PER_PAGE, (page + 1) * SEGMENTS_PER_PAGE)
    .map(({ id, name }) => ({ id, name, analytics_tracking_enabled: false, tags: [] as string[] }));
  return { status: 200, body: { message: 'success', segments }, summary: `${segments.length} segment(s)` };
}

function exportAnswer(request: SandboxRequest): SandboxAnswer {
  const body = (request.body ?? {}) as { segment_id?: unknown; fields_to_export?: unknown };
  const segment = SANDBOX_SEGMENTS.find(({ id }) => id === body.segment_id);
  if (!segment) return { status: 400, body: { message: 'Invalid segment_id' }, summary: 'unknown segment' };
  const fields = body.fields_to_export;
  if (!Array.isArray(fields) || fields.length === 0 || !fields.every((field) => typeof field === 'string')) {
    return { status: 400, body: { message: 'fields_to_export must be a non-empty array of field names' }, summary: 'no fields_to_export' };
  }
  const users = segmentUsers(segment);
  // Braze's object_prefix: a UUID and the time the export started.
  const exportId = `${randomUUID()}-${Math.floor(Date.now() / 1000)}`;
  exportsById.set(exportId, { segmentId: segment.id, fields: fields as string[], users, downloads: 0, generated: 0 });
  for (const oldest of exportsById.keys()) {
    if (exportsById.size <= KEPT_EXPORTS) break;
    exportsById.delete(oldest);
  }
  return {
    status: 201,
    body: { message: 'success', object_prefix: exportId, url: `${request.baseUrl ?? ''}/_exports/${exportId}.zip` },
    summary: `export of ${segment.id} (${users} users)`,
  };
}

/** What S3 answers for a presigned URL whose object is not there (yet). */
const S3_NO_SUCH_KEY = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';

function downloadAnswer(exportId: string): SandboxAnswer {
  const found = exportsById.get(exportId);
  if (!found) return { status: 404, body: S3_NO_SUCH_KEY, contentType: 'application/xml', summary: 'unknown export' };
  found.downloads += 1;
  if (found.downloads === 1) return { status: 404, body: S3_NO_SUCH_KEY, contentType: 'application/xml', summary: 'export not ready yet' };
  const files = Math.ceil(found.users / USERS_PER_FILE);
  return {
    status: 200,
    body: undefined,
    contentType: 'application/zip',
    stream: () => new SegmentExportZip(found),
    summary: `zip of ${found.users} users in ${files} file(s)`,
  };
}

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Linus', 'Radia', 'Ken'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Torvalds', 'Perlman', 'Thompson'];
const PLACES = [
  ['FR', 'fr'],
  ['US', 'en'],
  ['DE', 'de'],
  ['GB', 'en'],
  ['ES', 'es'],
  ['JP', 'ja'],
] as const;
const LOYALTY_TIERS = ['bronze', 'silver', 'gold', 'platinum'];
const SIGNUP_SOURCES = ['web', 'ios', 'android', 'store'];

/**
 * The sandbox user at `index` of a segment: always the same for the same (segment, index); every
 * 10th user (index 9, 19, ...) has no email, as real exports have users without one.
 */
export function sandboxSegmentUser(segmentId: string, index: number): Record<string, unknown> {
  // A cheap integer hash (not crypto: 500,000 users must come quickly) of (segment, index).
  const a = mix(segmentSeed(segmentId) ^ index);
  const b = mix(a ^ 0x9e3779b9);
  const c = mix(b ^ 0x85ebca6b);
  const place = PLACES[a % PLACES.length]!;
  const user: Record<string, unknown> = { external_id: `${segmentId}-${index}`, braze_id: hex8(a) + hex8(b) + hex8(c) };
  if (index % 10 !== 9) user.email = `user${index}@example.com`;
  user.first_name = FIRST_NAMES[b % FIRST_NAMES.length];
  user.last_name = LAST_NAMES[c % LAST_NAMES.length];
  user.country = place[0];
  user.language = place[1];
  user.custom_attributes = { loyalty_tier: LOYALTY_TIERS[(a >>> 8) % LOYALTY_TIERS.length], signup_source: SIGNUP_SOURCES[(b >>> 8) % SIGNUP_SOURCES.length] };
  return user;
}

const seeds = new Map<string, number>();
/** FNV-1a of the segment id (memoized: a handful of segments). */
function segmentSeed(segmentId: string): number {
  let seed = seeds.get(segmentId);
  if (seed === undefined) {
    seed = 0x811c9dc5;
    for (let i = 0; i < segmentId.length; i++) seed = Math.imul(seed ^ segmentId.charCodeAt(i), 0x01000193) >>> 0;
    seeds.set(segmentId, seed);
  }
  return seed;
}

/** MurmurHash3's finalizer: an unsigned 32-bit value. */
function mix(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
/** 8 hex digits of an unsigned 32-bit value (a table: Number#toString(16) is slow at 1.5 million calls). */
function hex8(value: number): string {
  return HEX[value >>> 24]! + HEX[(value >>> 16) & 255]! + HEX[(value >>> 8) & 255]! + HEX[value & 255]!;
}

/** A user limited to the fields asked for (external_id and braze_id are always kept). */
function exported(user: Record<string, unknown>, fields: ReadonlySet<string>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const name in user) if (name === 'external_id' || name === 'braze_id' || fields.has(name)) kept[name] = user[name];
  return kept;
}

/**
 * The ZIP of an export, generated as it is read: each read() deflates the next ~200 users and pushes
 * what fflate emits, so at most a few chunks of the archive are ever in memory, and nothing more is
 * generated while the consumer does not read. Entries `<segment id>-part-<n>.txt` (n from 0) of at
 * most 5,000 users, one user JSON per line.
 */
class SegmentExportZip extends Readable {
  private readonly zip: Zip;
  private readonly fields: ReadonlySet<string>;
  private file?: ZipDeflate;
  private inFile = 0;
  private parts = 0;
  private next = 0;
  private ended = false;
  private emitted = false;
  private scheduled = false;

  constructor(private readonly source: SandboxExport) {
    super();
    this.fields = new Set(source.fields);
    this.zip = new Zip((error, data, final) => {
      if (this.destroyed) return;
      if (error) {
        this.destroy(error);
        return;
      }
      if (data.length > 0) {
        this.emitted = true;
        this.push(data);
      }
      if (final) this.push(null);
    });
  }

  override _read(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // On the next turn of the event loop, not at once: a consumer in the same process (the job the
    // sandbox stands in for) gets to read between chunks instead of waiting for the sockets to fill.
    setImmediate(() => {
      this.scheduled = false;
      this.emitted = false;
      try {
        // fflate holds deflated bytes back until a block is full: generate until some come out.
        while (!this.emitted && !this.ended && !this.destroyed) this.generate();
      } catch (error) {
        this.destroy(error as Error);
      }
    });
  }

  private generate(): void {
    if (this.next >= this.source.users) {
      this.file?.push(new Uint8Array(0), true);
      this.ended = true;
      this.zip.end();
      return;
    }
    if (!this.file || this.inFile === USERS_PER_FILE) {
      this.file?.push(new Uint8Array(0), true);
      this.file = new ZipDeflate(`${this.source.segmentId}-part-${this.parts++}.txt`, { level: 3 });
      this.inFile = 0;
      this.zip.add(this.file);
    }
    const count = Math.min(USERS_PER_CHUNK, USERS_PER_FILE - this.inFile, this.source.users - this.next);
    let lines = '';
    for (let i = 0; i < count; i++) lines += `${JSON.stringify(exported(sandboxSegmentUser(this.source.segmentId, this.next + i), this.fields))}\n`;
    this.next += count;
    this.inFile += count;
    this.source.generated += count;
    this.file.push(Buffer.from(lines, 'utf8'));
  }
}
