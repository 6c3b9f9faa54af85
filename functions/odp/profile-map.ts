/**
 * Braze segment export user -> ODP profile (`POST /v3/profiles`, `{attributes: {...}}`).
 *
 * The default map is the seed's: Braze `email` -> ODP `email`, the identifier ODP shows as the
 * customer's last seen email. `ODP_FIELD_MAPPINGS` adds fields (`{"first_name": "first_name",
 * "custom_attributes.loyalty_tier": "loyalty_tier", "external_id": "customer_id"}`) and may send
 * `email` elsewhere too. Only text, numbers and booleans are mapped (ODP fields are scalars); a
 * missing, null, object or array value leaves the ODP field out. A profile must carry one of ODP's
 * identifiers, or ODP could not tell whose it is: a user without one is skipped, and counted.
 */

const DEFAULT_FIELD_MAP: Readonly<Record<string, string>> = { email: 'email' };

/** ODP's customer identifiers (https://docs.developers.optimizely.com/optimizely-data-platform/docs/thebasics-customers). */
const ODP_IDENTIFIERS: readonly string[] = ['email', 'customer_id', 'vuid'];

export interface OdpProfile {
  attributes: Record<string, string | number | boolean>;
}

/** The map applied: the default plus the configured extras (an extra may override a default's target). */
export function fieldMap(extra: Readonly<Record<string, string>> = {}): Readonly<Record<string, string>> {
  return { ...DEFAULT_FIELD_MAP, ...extra };
}

/**
 * The top-level Braze fields an export must hold for `map` (`fields_to_export`): each mapped
 * field's first segment, plus `external_id` and `braze_id` (Braze always has one of them).
 */
export function fieldsToExport(map: Readonly<Record<string, string>>): string[] {
  return [...new Set(['external_id', 'braze_id', ...Object.keys(map).map((path) => path.split('.')[0]!)])];
}

function read(user: Record<string, unknown>, path: string): unknown {
  let value: unknown = user;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The ODP profile for one export line, or undefined when it would carry no ODP identifier. */
export function toOdpProfile(user: Record<string, unknown>, map: Readonly<Record<string, string>>): OdpProfile | undefined {
  const attributes: OdpProfile['attributes'] = {};
  for (const [from, to] of Object.entries(map)) {
    const value = read(user, from);
    if (typeof value === 'string') {
      const trimmed = value.trim();
      if (trimmed !== '') attributes[to] = trimmed;
    } else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') {
      attributes[to] = value;
    }
  }
  return ODP_IDENTIFIERS.some((name) => name in attributes) ? { attributes } : undefined;
}
