import * as z from 'zod/mini';
import { ConfigError } from './errors';

/**
 * A partner's settings: environment variable name -> schema with its default. Each partner folder
 * declares its own (functions/<partner>/settings.ts); its handlers read them with `loadSettings`,
 * the CDK app validates a deployment's values with the same schema, so a typo fails `cdk synth`
 * naming the setting and never a Lambda at cold start.
 */
export type SettingsSchema = z.ZodMiniObject<Record<string, z.ZodMiniType>>;

/** Builders for the usual kinds of setting (values arrive as strings from the environment). */
export const setting = {
  positiveInt: (fallback: number) => z._default(z.coerce.number().check(z.int(), z.positive()), fallback),
  /** Seconds; fractions allowed so tests can shrink an hour to a second. */
  positiveSeconds: (fallback: number) => z._default(z.coerce.number().check(z.positive()), fallback),
  optionalUrl: () => z.optional(z.url()),
  optionalText: () => z.optional(z.string().check(z.minLength(1))),
  text: (fallback: string, pattern?: RegExp, message?: string) =>
    z._default(pattern ? z.string().check(z.regex(pattern, message)) : z.string().check(z.minLength(1)), fallback),
  /** Optional text that `parse` (the partner's own reader, which throws on a bad value) accepts. */
  checkedText: (parse: (text: string) => unknown, message: string) => z.optional(z.string().check(z.refine((text) => accepts(parse, text), message))),
  /** Text that `parse` accepts, `fallback` when unset. */
  checkedTextOr: (parse: (text: string) => unknown, message: string, fallback: string) =>
    z._default(z.string().check(z.refine((text) => accepts(parse, text), message)), fallback),
  boolean: (fallback: boolean) =>
    z._default(
      z.pipe(
        z.enum(['true', 'false']),
        z.transform((value) => value === 'true'),
      ),
      fallback,
    ),
};

/** Whether `parse`, which throws on a bad value, accepts `text`. */
function accepts(parse: (text: string) => unknown, text: string): boolean {
  try {
    parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The defined, non-empty variables of an environment. */
export function definedVariables(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

/** Parses the variables a schema names out of an environment; fails naming each bad variable. */
export function loadSettings<S extends SettingsSchema>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
  source = 'invalid environment',
): z.infer<S> {
  const wanted = definedVariables(env);
  const picked = Object.fromEntries(
    Object.keys(schema.def.shape)
      .filter((name) => name in wanted)
      .map((name) => [name, wanted[name]]),
  );
  const result = z.safeParse(schema, picked);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`${source}: ${issues.join('; ')}`);
  }
  return result.data;
}

/** Names a schema declares. */
export function settingNames(schema: SettingsSchema): string[] {
  return Object.keys(schema.def.shape);
}
