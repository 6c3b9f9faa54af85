import type { SandboxAnswer, SandboxRequest } from '../core/sandbox-types';

/**
 * Fields of ODP's `events` object the sandbox starts with: ODP's own (the event's `ts`, `event_type`,
 * `action`, the data source fields, and the `email` and `vuid` identifiers: ZaiusInc/node-sdk
 * src/Api/Types/EventPayload.ts, Identifiers.ts). What a set-up creates is added for the process's life.
 */
const ODP_OWN_EVENT_FIELDS = ['ts', 'event_type', 'action', 'data_source', 'data_source_type', 'data_source_details', 'data_source_version', 'email', 'vuid'];
const createdFields = new Map<string, Record<string, unknown>>();
const createdIdentifiers = new Set<string>();

/** Forgets what set-ups created (tests). */
export function resetOdpSandboxSchema(): void {
  createdFields.clear();
  createdIdentifiers.clear();
}

/** ODP's refusal of a name already taken (ZaiusInc/node-sdk src/Api/Schema/fields.test.ts, identifiers.test.ts). */
const alreadyUsed = (field: string): SandboxAnswer => ({
  status: 400,
  body: { title: 'Bad Request', status: 400, timestamp: new Date().toISOString(), detail: { invalids: [{ field, reason: 'already used by another field' }] } },
  summary: `${field} already used`,
});

/** What ODP answers, for the local sandbox: events and profiles accepted, the schema calls `npx bridge setup odp` makes. */
export function odpSandboxAnswer(request: SandboxRequest): SandboxAnswer | undefined {
  if (request.method === 'POST' && (request.path === '/v3/events' || request.path === '/v3/profiles')) {
    const count = Array.isArray(request.body) ? request.body.length : request.body ? 1 : 0;
    return { status: 202, body: { title: 'Accepted', status: 202, timestamp: new Date().toISOString() }, summary: `${count} object(s)` };
  }
  if (request.method === 'GET' && request.path === '/v3/schema/objects') {
    return { status: 200, body: [{ name: 'events', display_name: 'Events', fields: eventFields() }], summary: 'schema objects' };
  }
  if (request.method === 'GET' && request.path === '/v3/schema/objects/events') {
    const fields = eventFields();
    return {
      status: 200,
      body: { name: 'events', display_name: 'Events', alias: 'event', fields, relations: [] },
      summary: `events object, ${fields.length} fields`,
    };
  }
  if (request.method === 'POST' && request.path === '/v3/schema/objects/events/fields') {
    const field = (request.body ?? {}) as Record<string, unknown>;
    if (typeof field.name !== 'string' || typeof field.type !== 'string' || typeof field.display_name !== 'string') {
      return {
        status: 400,
        body: { title: 'Bad Request', status: 400, detail: { invalids: [{ field: 'name', reason: 'name, type and display_name are required' }] } },
        summary: 'bad field',
      };
    }
    if (ODP_OWN_EVENT_FIELDS.includes(field.name) || createdFields.has(field.name) || createdIdentifiers.has(field.name)) return alreadyUsed('name');
    createdFields.set(field.name, {
      name: field.name,
      type: field.type,
      display_name: field.display_name,
      description: field.description,
      created_by: 'account',
    });
    return { status: 200, body: createdFields.get(field.name), summary: `field ${field.name} created` };
  }
  if (request.method === 'POST' && request.path === '/v3/schema/identifiers') {
    const identifier = (request.body ?? {}) as Record<string, unknown>;
    if (typeof identifier.name !== 'string')
      return {
        status: 400,
        body: { title: 'Bad Request', status: 400, detail: { invalids: [{ field: 'name', reason: 'required' }] } },
        summary: 'bad identifier',
      };
    if (createdIdentifiers.has(identifier.name) || ODP_OWN_EVENT_FIELDS.includes(identifier.name)) return alreadyUsed('customers.name');
    createdIdentifiers.add(identifier.name);
    const field = { name: identifier.name, type: 'string', display_name: identifier.display_name };
    return { status: 200, body: { events: [field], customers: [field] }, summary: `identifier ${identifier.name} created` };
  }
  return undefined;
}

function eventFields(): Record<string, unknown>[] {
  return [
    ...ODP_OWN_EVENT_FIELDS.map((name) => ({ name, type: name === 'ts' ? 'timestamp' : 'string', display_name: name, created_by: 'zaius' })),
    ...[...createdIdentifiers].map((name) => ({ name, type: 'string', display_name: name, created_by: 'account' })),
    ...createdFields.values(),
  ];
}
