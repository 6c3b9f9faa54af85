import { ODP_EVENT_FIELD_TYPES, ODP_EVENT_FIELDS } from '../../../functions/odp/event-fields';
import { currentsBatchToOdp } from '../../../functions/odp/transform';
import { readFixture } from '../helpers';

/** Every documented Currents event: the connector page's examples and Braze's published Custom HTTP samples. */
function documentedEvents(): unknown[] {
  const page = readFixture('odp/currents-connector-page.json') as { events: unknown[] };
  const samples = readFixture('odp/currents-examples-custom-http.json') as { events: Record<string, unknown> };
  return [...page.events, ...Object.values(samples.events)].map((event, index) => ({ ...(event as object), id: `event-${index}` }));
}

const typeOf = (value: unknown) => (typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string');

describe('the ODP event fields the Currents mapping writes (what npx bridge setup odp creates)', () => {
  it('declares every _braze_* field the documented events map to, with the type of the value written', () => {
    const { events } = currentsBatchToOdp(documentedEvents(), { externalIdIdentifier: 'braze_external_id' });
    const written = new Map<string, Set<string>>();
    for (const { event } of events) {
      for (const [name, value] of Object.entries(event.data)) {
        if (name === 'ts') continue;
        written.set(name, (written.get(name) ?? new Set()).add(typeOf(value)));
      }
    }

    expect(written.size).toBeGreaterThan(150);
    const undeclared = [...written.keys()].filter((name) => !ODP_EVENT_FIELD_TYPES.has(name));
    expect(undeclared).toEqual([]);
    for (const [name, types] of written) expect({ name, types: [...types] }).toEqual({ name, types: [ODP_EVENT_FIELD_TYPES.get(name)] });
  });

  it("gives each field a name ODP takes once and a display name unique on the object, and never declares ODP's own ts", () => {
    const names = ODP_EVENT_FIELDS.map((field) => field.name);
    const displayNames = ODP_EVENT_FIELDS.map((field) => field.display_name);

    expect(new Set(names).size).toBe(names.length);
    expect(new Set(displayNames).size).toBe(displayNames.length);
    expect(names).not.toContain('ts');
    for (const field of ODP_EVENT_FIELDS) {
      expect(field.name).toMatch(/^_braze_[a-z0-9_]+$/);
      expect(['string', 'number', 'boolean']).toContain(field.type);
      expect(field.description).toMatch(/^Braze Currents: /);
    }
  });
});
