import * as z from 'zod/mini';
import type { PartnerSetup, SetupContext, SetupStep } from '../core/catalogue-types';
import { classifyAnswer } from '../core/http';
import { ODP_EVENT_FIELDS, type OdpEventField } from './event-fields';
import { ODP_IDENTIFIER_NAME } from './settings';

/**
 * `npx bridge setup odp`: what ODP must hold before the Currents flow's events keep their data.
 *
 * - The event fields the mapping writes (functions/odp/event-fields.ts): ODP keeps a custom field's
 *   value only once the field exists ("the new fields only capture data after you create them",
 *   ODP developer docs, "Objects and fields"). Read with "Get object" (`GET /v3/schema/objects/events`),
 *   each missing one created with "Create field" (`POST /v3/schema/objects/events/fields`,
 *   `{name, display_name, type, description}`); ODP answers a name already taken with a 400 whose
 *   `detail.invalids` has `{field: "name", reason: "already used ..."}` (ZaiusInc/node-sdk
 *   src/Api/Schema/objects.ts getObject, fields.ts createField, fields.test.ts).
 * - The identifier named by ODP_EXTERNAL_ID_IDENTIFIER: "Create identifier"
 *   (`POST /v3/schema/identifiers`, `{name, display_name, merge_confidence, messaging}`; a name
 *   taken answers 400 with `{field: "customers.name", reason: "already used ..."}`: ZaiusInc/node-sdk
 *   src/Api/Schema/identifiers.ts, identifiers.test.ts). ODP's docs add that "custom objects and
 *   identifiers are available for creation only by app developers and ODP Customer Success
 *   Managers": where the key may not, the step says exactly what to ask for.
 *
 * Idempotent: what exists is left as it is. Calls are spaced to ODP's 10 requests per second
 * (ODP REST API reference, "Rate limits").
 */

/** Milliseconds between two schema calls: ODP's object and schema APIs take 10 requests per second. */
export const SCHEMA_CALL_SPACING_MS = 100;

const objectAnswer = z.looseObject({ fields: z.optional(z.array(z.looseObject({ name: z.string() }))) });
const refusalAnswer = z.looseObject({
  message: z.optional(z.string()),
  detail: z.optional(
    z.looseObject({
      invalids: z.optional(z.array(z.looseObject({ field: z.optional(z.string()), reason: z.optional(z.union([z.string(), z.array(z.string())])) }))),
    }),
  ),
});

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** ODP's `detail.invalids` of a refusal, reasons flattened. */
function invalidsOf(text: string): { field: string; reason: string }[] {
  const answer = z.safeParse(refusalAnswer, parseJson(text));
  if (!answer.success) return [];
  return (answer.data.detail?.invalids ?? []).flatMap((invalid) =>
    (Array.isArray(invalid.reason) ? invalid.reason : [invalid.reason ?? '']).map((reason) => ({ field: invalid.field ?? '', reason })),
  );
}

/** Whether a refusal says the name is taken (the SDK's own test: reason starts with "already used"). */
const alreadyUsed = (text: string, field: string) => invalidsOf(text).some((invalid) => invalid.field === field && /^already used/i.test(invalid.reason));

/** ODP's reason for a refusal, short and on one line (no value of ours is in it: we send names and types only). */
function reasonOf(status: number, text: string): string {
  const invalids = invalidsOf(text).map(({ field, reason }) => `${field ? `${field}: ` : ''}${reason}`);
  const message = z.safeParse(refusalAnswer, parseJson(text));
  const said = invalids.length > 0 ? invalids.join('; ') : message.success ? (message.data.message ?? '') : '';
  const line = said.replace(/\s+/g, ' ').trim();
  return `${status}${line ? ` (${line.length > 160 ? `${line.slice(0, 157)}...` : line})` : ''}`;
}

/** What a refused call means for the operator, in words. */
function refusalWhy(status: number, text: string): string {
  switch (classifyAnswer(status)) {
    case 'config':
      if (status === 401) return `${reasonOf(status, text)}: ODP refused the key: check the odp secret's api_key (a private key)`;
      if (status === 403) return `${reasonOf(status, text)}: this key may not change ODP's schema (a public key only pushes data)`;
      return `${reasonOf(status, text)}: check ODP_API_URL`;
    case 'retryable':
      return `${reasonOf(status, text)}: ODP is ${status === 429 ? 'throttling' : 'failing'}; run the set-up again later`;
    default:
      return reasonOf(status, text);
  }
}

const SUFFIX_WORDS: Readonly<Record<string, string>> = {
  id: 'ID',
  hash: 'Hash',
  number: 'Number',
  token: 'Token',
  alias: 'Alias',
  address: 'Address',
  key: 'Key',
};

/**
 * `braze_external_id` -> `Braze External ID`: ODP wants an identifier's display name to end with
 * the title-case form of its suffix (ZaiusInc/node-sdk IdentifierDefinition.display_name).
 */
function identifierDisplayName(name: string): string {
  const words = name.split('_').filter(Boolean);
  return words.map((word, i) => (i === words.length - 1 && SUFFIX_WORDS[word] ? SUFFIX_WORDS[word] : word[0]!.toUpperCase() + word.slice(1))).join(' ');
}

/** Where the operator creates by hand what the API would not. */
const BY_HAND_FIELD = 'create it in ODP (Account Settings > Objects & Fields > Events > Create field)';

export async function runOdpSetup(context: SetupContext, fields: readonly OdpEventField[] = ODP_EVENT_FIELDS): Promise<SetupStep[]> {
  const headers = { 'x-api-key': context.credential('api_key'), accept: 'application/json', 'content-type': 'application/json' };
  const steps: SetupStep[] = [];
  let answer: { status: number; text: string };
  try {
    answer = await context.call({ method: 'GET', path: 'v3/schema/objects/events', headers });
  } catch (error) {
    return [{ item: 'events object', result: 'failed', why: `${(error as Error).message}: check ODP_API_URL and the network` }];
  }
  if (classifyAnswer(answer.status) !== 'delivered') return [{ item: 'events object', result: 'failed', why: refusalWhy(answer.status, answer.text) }];
  const object = z.safeParse(objectAnswer, parseJson(answer.text));
  if (!object.success) return [{ item: 'events object', result: 'failed', why: `${answer.status} but not ODP's object definition (no fields list)` }];
  const existing = new Set((object.data.fields ?? []).map((field) => field.name));

  // The event fields the mapping writes.
  const missing = fields.filter((field) => !existing.has(field.name));
  const present = fields.length - missing.length;
  if (present > 0)
    steps.push({
      item: `${present} event field${present === 1 ? '' : 's'}`,
      result: 'exists',
      why: `already on ODP's events object (of the ${fields.length} the Currents mapping writes)`,
    });
  let stopped: string | undefined;
  const created: string[] = [];
  const problems: SetupStep[] = [];
  for (const field of missing) {
    const item = `event field ${field.name} (${field.type})`;
    if (stopped) {
      problems.push({ item, result: 'manual', why: `not tried (${stopped}): ${BY_HAND_FIELD}` });
      continue;
    }
    await context.wait(SCHEMA_CALL_SPACING_MS);
    try {
      const answerOf = await context.call({ method: 'POST', path: 'v3/schema/objects/events/fields', headers, body: JSON.stringify(field) });
      const kind = classifyAnswer(answerOf.status);
      if (kind === 'delivered') created.push(field.name);
      else if (answerOf.status === 400 && alreadyUsed(answerOf.text, 'name'))
        problems.push({ item, result: 'exists', why: 'ODP says the name is already used' });
      else if (kind === 'refused')
        problems.push({ item, result: 'manual', why: `ODP refused it, ${reasonOf(answerOf.status, answerOf.text)}: ${BY_HAND_FIELD}` });
      else {
        stopped = refusalWhy(answerOf.status, answerOf.text);
        problems.push({ item, result: 'failed', why: stopped });
      }
    } catch (error) {
      stopped = `${(error as Error).message}: check ODP_API_URL and the network`;
      problems.push({ item, result: 'failed', why: stopped });
    }
  }
  if (created.length > 0) {
    const names = created.length <= 3 ? created.join(', ') : `${created.slice(0, 3).join(', ')} and ${created.length - 3} more`;
    steps.push({ item: `${created.length} event field${created.length === 1 ? '' : 's'}`, result: 'created', why: `created on ODP's events object: ${names}` });
  }
  steps.push(...problems);

  // The identifier that receives Braze's external user id.
  const identifier = context.settings.ODP_EXTERNAL_ID_IDENTIFIER;
  if (!identifier) {
    steps.push({
      item: 'external id identifier',
      result: 'skipped',
      why: 'ODP_EXTERNAL_ID_IDENTIFIER is not set: Currents events are identified by email only, and those without one are not sent',
    });
    return steps;
  }
  const item = `identifier ${identifier}`;
  const definition = { name: identifier, display_name: identifierDisplayName(identifier), merge_confidence: 'high', messaging: false };
  const byHand =
    `create the identifier in ODP, or ask your ODP Customer Success Manager to ("custom identifiers are available ` +
    `for creation only by app developers and ODP CSMs"): name ${definition.name}, display name "${definition.display_name}", ` +
    `merge confidence high, not for messaging`;
  if (!ODP_IDENTIFIER_NAME.test(identifier))
    return [
      ...steps,
      {
        item,
        result: 'failed',
        why: 'ODP_EXTERNAL_ID_IDENTIFIER is not an ODP identifier name (lower snake case ending in _id, _hash, _number, _token, _alias, _address or _key)',
      },
    ];
  if (existing.has(identifier)) return [...steps, { item, result: 'exists', why: "already an identifier field on ODP's events object" }];
  await context.wait(SCHEMA_CALL_SPACING_MS);
  try {
    const created = await context.call({ method: 'POST', path: 'v3/schema/identifiers', headers, body: JSON.stringify(definition) });
    const kind = classifyAnswer(created.status);
    if (kind === 'delivered')
      steps.push({ item, result: 'created', why: `${created.status}: created (merge confidence high), on ODP's customers and events objects` });
    else if (created.status === 400 && alreadyUsed(created.text, 'customers.name'))
      steps.push({ item, result: 'exists', why: 'ODP says the name is already used' });
    else if (kind === 'refused' || created.status === 403)
      steps.push({ item, result: 'manual', why: `ODP refused it, ${reasonOf(created.status, created.text)}: ${byHand}` });
    else steps.push({ item, result: 'failed', why: refusalWhy(created.status, created.text) });
  } catch (error) {
    steps.push({ item, result: 'failed', why: `${(error as Error).message}: check ODP_API_URL and the network` });
  }
  return steps;
}

export const odpSetup: PartnerSetup = {
  description: "the event fields the Currents mapping writes, and the identifier ODP_EXTERNAL_ID_IDENTIFIER names, on ODP's schema",
  urlSetting: 'ODP_API_URL',
  queues: ['odp-events'],
  source:
    'ODP REST API reference "Get object", "Create field", "Create identifier" (GET /v3/schema/objects/{object}, ' +
    'POST /v3/schema/objects/{object}/fields, POST /v3/schema/identifiers, x-api-key); ZaiusInc/node-sdk ' +
    'src/Api/Schema/objects.ts, fields.ts, identifiers.ts',
  run: (context) => runOdpSetup(context),
};
