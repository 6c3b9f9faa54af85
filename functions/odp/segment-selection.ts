import type { BrazeSegment } from '../braze/export-client';
import { ConfigError } from '../core/errors';

export type { BrazeSegment };

/** Which Braze segments the sync exports: every one, or those whose id or name is listed. */
export type SegmentSelection = { kind: 'all' } | { kind: 'listed'; wanted: readonly string[] };

/** `all`, `id1, Name two`, or `["Name, with comma", "id3"]`. An empty list selects nothing. */
export function parseSegmentSelection(text: string): SegmentSelection {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'all') return { kind: 'all' };
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new ConfigError('ODP_SEGMENTS: a JSON array must be valid JSON');
    }
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
      throw new ConfigError('ODP_SEGMENTS: a JSON array must hold segment ids or names (strings)');
    }
    return { kind: 'listed', wanted: parsed.map((item) => item.trim()).filter(Boolean) };
  }
  return {
    kind: 'listed',
    wanted: trimmed
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  };
}

/** The listed segments, in Braze's order; each wanted entry matches an id exactly or a name ignoring case. */
export function selectSegments(segments: readonly BrazeSegment[], selection: SegmentSelection): { selected: BrazeSegment[]; unmatched: string[] } {
  if (selection.kind === 'all') return { selected: [...segments], unmatched: [] };
  const matches = (segment: BrazeSegment, wanted: string) => segment.id === wanted || segment.name.toLowerCase() === wanted.toLowerCase();
  const selected = segments.filter((segment) => selection.wanted.some((wanted) => matches(segment, wanted)));
  const unmatched = selection.wanted.filter((wanted) => !segments.some((segment) => matches(segment, wanted)));
  return { selected, unmatched };
}

const FIELD_NAME = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

/** ODP_FIELD_MAPPINGS: `{"<braze field>": "<odp field>"}`; throws naming the first bad entry (never a value). */
export function parseFieldMappings(text: string): Readonly<Record<string, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError('ODP_FIELD_MAPPINGS is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError('ODP_FIELD_MAPPINGS must be a JSON object');
  const mappings: Record<string, string> = {};
  for (const [from, to] of Object.entries(parsed)) {
    if (!FIELD_NAME.test(from)) throw new ConfigError(`ODP_FIELD_MAPPINGS: "${from}" is not a Braze field name`);
    if (typeof to !== 'string' || !/^[A-Za-z0-9_]+$/.test(to))
      throw new ConfigError(`ODP_FIELD_MAPPINGS.${from}: the ODP field must be a name of letters, digits and _`);
    mappings[from] = to;
  }
  return mappings;
}
