import * as z from 'zod/mini';
import { setting } from '../core/settings';

/** Lytics stream names: letters, digits, "_" and "-" (at most 100). */
const stream = (fallback: string) => setting.text(fallback, /^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, "_" and "-" (at most 100)');

/** Lytics' settings (SPEC section 5 and seed 003), with their defaults. */
export const lyticsSettings = z.object({
  /** Lytics API base (collect JSON API), e.g. https://api.lytics.io; unset locally means the sandbox. */
  LYTICS_API_URL: setting.optionalUrl(),
  /** Lytics bulk CSV API base (https://bulk.lytics.io: api.lytics.io caps uploads at 10 MB); LYTICS_API_URL when unset. */
  LYTICS_BULK_API_URL: setting.optionalUrl(),
  /** Stream that Braze webhook profiles are collected into (seed 003). */
  LYTICS_USERS_STREAM: stream('braze_users'),
  /** Profiles per collect call: the JSON collect API takes arrays up to 10 MB. */
  LYTICS_MAX_EVENTS_PER_REQUEST: z._default(z.coerce.number().check(z.int(), z.positive(), z.maximum(10_000)), 500),
  /** Stream that Braze segment CSV exports are imported into. */
  LYTICS_CSV_STREAM: stream('braze_segment_export'),
  /** Rows per bulk CSV request: one request at a time, at most two chunks held (the one in flight and the next, read meanwhile). */
  LYTICS_CSV_ROWS_PER_REQUEST: z._default(z.coerce.number().check(z.int(), z.positive(), z.maximum(500_000)), 50_000),
});
