import type { InputLimits } from './catalogue-types';
import { type FieldIssue, PayloadTooLargeError, ValidationError } from './errors';
import { formatPath, pathsInMessage } from './validation';

/**
 * Reading a request body within its route's limits (SPEC section 3: a request that cannot be
 * represented faithfully is refused, not altered): nesting no deeper than the route needs, checked
 * on the raw text before anything recurses over it; no integer JSON cannot hold exactly; no more
 * records than the route takes.
 */

/** A JSON object (not null, not an array): what a body, a message or a field must be to be read by key. */
export const isJsonObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** `{` `[` `}` `]` `"` `\` */
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether the JSON text nests objects and arrays deeper than `maxDepth` (`{}` is 1 deep, `[{}]`
 * 2): one pass over the text, brackets inside strings ignored, stopping at the first level too
 * deep. Text that is not JSON is left to the parser to refuse.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return false;
}

/** 2^53: an integer beyond it may not survive JSON.parse (12345678901234567890 becomes ...7168). */
const LIMIT = 2n ** 53n;
/** Sixteen digits in a row: the least an integer beyond 2^53 takes, so a body without any skips the slow parse. */
const LONG_DIGITS = /\d{16}/;
const INTEGER_LITERAL = /^-?\d+$/;

/** Where an integer beyond 2^53 stood: the parse keeps it aside, with the number JSON.parse made of it. */
class UnsafeInteger {
  constructor(readonly rounded: number) {}
}

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

/** `events[].properties.order_id`: a path with its indices left out, to compare with `exactNumbersIn`. */
function shapeOf(path: readonly PropertyKey[]): string {
  return formatPath(path.map((key) => (typeof key === 'number' ? -1 : key))).replaceAll('[-1]', '[]');
}

function isUnder(shape: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => shape === prefix || shape.startsWith(`${prefix}.`) || shape.startsWith(`${prefix}[`));
}

/** Replaces each kept-aside integer under `exactNumbersIn` by its number again, and lists where the others stand. */
function settleUnsafeIntegers(value: unknown, path: PropertyKey[], exactNumbersIn: readonly string[], refused: PropertyKey[][]): unknown {
  if (value instanceof UnsafeInteger) {
    if (isUnder(shapeOf(path), exactNumbersIn)) return value.rounded;
    refused.push([...path]);
    return value;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      value[index] = settleUnsafeIntegers(item, [...path, index], exactNumbersIn, refused);
    });
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = settleUnsafeIntegers(record[key], [...path, key], exactNumbersIn, refused);
  }
  return value;
}

/**
 * Parses a request body within `limits`, or throws a ValidationError (400) naming what is wrong:
 * text that is not JSON; nesting deeper than `maxDepth` (checked on the text first, so a body
 * 100,000 levels deep never reaches a recursive function); an integer literal beyond 2^53 anywhere
 * but under `exactNumbersIn` (where the flow reads the sender's digits from the raw text itself),
 * named by its path, e.g. `events[3].external_id`: JSON.parse would round it, and an id rounded is
 * another user's id.
 */
export function parseJsonBody(raw: string, limits: Pick<InputLimits, 'maxDepth' | 'exactNumbersIn'>): unknown {
  if (nestsDeeperThan(raw, limits.maxDepth)) {
    throw new ValidationError(`body nests deeper than ${limits.maxDepth} levels, this route's nesting limit`, [
      { path: '(body)', message: `nests deeper than ${limits.maxDepth} levels (the route's nesting limit)` },
    ]);
  }
  let found = false;
  const keepUnsafeAside: Reviver = (_key, value, context) => {
    const source = context?.source;
    if (typeof value !== 'number' || Number.isSafeInteger(value) || source === undefined || !INTEGER_LITERAL.test(source)) return value;
    const exact = BigInt(source);
    if (exact <= LIMIT && exact >= -LIMIT) return value;
    found = true;
    return new UnsafeInteger(value);
  };
  let parsed: unknown;
  try {
    parsed = LONG_DIGITS.test(raw) ? JSON.parse(raw, keepUnsafeAside as (this: unknown, key: string, value: unknown) => unknown) : JSON.parse(raw);
  } catch (cause) {
    throw new ValidationError('body is not valid JSON', [{ path: '(body)', message: 'not valid JSON' }], { cause });
  }
  if (!found) return parsed;
  const refused: PropertyKey[][] = [];
  parsed = settleUnsafeIntegers(parsed, [], limits.exactNumbersIn ?? [], refused);
  if (refused.length === 0) return parsed;
  const issues: FieldIssue[] = refused.map((path) => ({
    path: formatPath(path),
    message: 'integer beyond 2^53, which JSON numbers cannot hold exactly: send it as a string',
  }));
  throw new ValidationError(`invalid request body: integer beyond 2^53 at ${pathsInMessage(issues)}`, issues);
}

/** How many records a body carries: an array's items, else the items of the route's `recordsField`, else one. */
function recordsOf(body: unknown, recordsField: string | undefined): { count: number; where: string } {
  if (Array.isArray(body)) return { count: body.length, where: 'the body' };
  if (recordsField !== undefined && body !== null && typeof body === 'object') {
    const records = (body as Record<string, unknown>)[recordsField];
    if (Array.isArray(records)) return { count: records.length, where: recordsField };
  }
  return { count: 1, where: 'the body' };
}

/** Refuses (413) a body carrying more records than the route takes, naming the limit. */
export function checkRecordLimit(body: unknown, limits: Pick<InputLimits, 'maxRecords' | 'recordsField'>): void {
  const { count, where } = recordsOf(body, limits.recordsField);
  if (count > limits.maxRecords) {
    throw new PayloadTooLargeError(`${count} records in ${where}: this route takes at most ${limits.maxRecords} per request (its record limit)`);
  }
}
