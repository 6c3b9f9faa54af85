import { ConfigError } from '../core/errors';

/**
 * Which Braze campaigns (or Canvases) an ODP activation may trigger: `ODP_ALLOWED_CAMPAIGNS` /
 * `ODP_ALLOWED_CANVASES`, a comma list of ids or `*` (SPEC section 2, odp-activation). Unset
 * allows none: whoever holds the ODP inbound token (it sits in ODP's webhook settings) must not be
 * able to send any message of the workspace to anyone.
 */
export type AllowedTargets = { kind: 'any' } | { kind: 'listed'; ids: ReadonlySet<string> };

const NONE_ALLOWED: AllowedTargets = { kind: 'listed', ids: new Set() };

/** `*`, or ids separated by commas (`c1, c2`); an id is kept as written, spaces around it trimmed. */
export function parseAllowedTargets(text: string): AllowedTargets {
  const trimmed = text.trim();
  if (trimmed === '*') return { kind: 'any' };
  const ids = trimmed
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new ConfigError('a comma list of ids, or *');
  if (ids.includes('*')) throw new ConfigError('* allows every id: give it alone, not in a list');
  return { kind: 'listed', ids: new Set(ids) };
}

/** The setting's value read, none allowed when unset. */
export function allowedTargets(text: string | undefined): AllowedTargets {
  return text === undefined ? NONE_ALLOWED : parseAllowedTargets(text);
}

export function isAllowed(allowed: AllowedTargets, id: string): boolean {
  return allowed.kind === 'any' || allowed.ids.has(id);
}
