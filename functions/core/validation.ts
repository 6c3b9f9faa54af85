import * as z from 'zod/mini';
import { en } from 'zod/v4/locales';
import { type FieldIssue, ValidationError } from './errors';

/**
 * English messages ("expected string, received undefined"): one locale, not all of them. The
 * barrel import is tree-shaken to `en` by esbuild (same bundle size as `locales/en.js`), and unlike
 * that per-file path it also resolves under require (jest), where `en.js` is ESM-only and fails to load.
 */
z.config(en());

/** `[0].email`, `lytics_to_braze_audience[3].external_id`: the path a sender can act on. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(body)';
}

function toFieldIssues(error: z.core.$ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** Failing fields a ValidationError's message names, at most (its issues list every one). */
const MAX_PATHS_IN_MESSAGE = 10;

/** `a, b, c`, or `a, b, ... and 12 more` past MAX_PATHS_IN_MESSAGE distinct paths. */
export function pathsInMessage(issues: readonly FieldIssue[]): string {
  const paths = [...new Set(issues.map((issue) => issue.path))];
  const named = paths.slice(0, MAX_PATHS_IN_MESSAGE).join(', ');
  return paths.length > MAX_PATHS_IN_MESSAGE ? `${named} and ${paths.length - MAX_PATHS_IN_MESSAGE} more` : named;
}

/** Parses with a zod (mini) schema or throws a ValidationError naming the failing fields. */
export function validate<S extends z.ZodMiniType>(schema: S, input: unknown, what = 'request body'): z.infer<S> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const issues = toFieldIssues(result.error);
  throw new ValidationError(`invalid ${what}: ${pathsInMessage(issues)}`, issues);
}
