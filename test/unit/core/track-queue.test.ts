import type { TrackItem } from '../../../functions/core/braze';
import { byteLength } from '../../../functions/core/queue';
import { encodeTrackMessages, trackMessageSchema } from '../../../functions/core/track-queue';
import { validate } from '../../../functions/core/validation';

const attribute = (i: number): TrackItem => ({ kind: 'attributes', object: { braze_id: String(i), _update_existing_only: true } });
const event = (i: number): TrackItem => ({ kind: 'events', object: { external_id: String(i), name: 'status', time: '2024-01-15T12:00:00Z' } });

describe('encodeTrackMessages', () => {
  it('encodes 160 objects at 75 per call as messages of 75, 75 and 10 that parse back in order', () => {
    const items = Array.from({ length: 160 }, (_, i) => (i % 3 === 0 ? event(i) : attribute(i)));

    const messages = encodeTrackMessages('seen-callback', 'req-1', items, 75);

    const parsed = messages.map((message) => validate(trackMessageSchema, JSON.parse(message.body), 'track message'));
    expect(parsed.map((message) => message.items.length)).toEqual([75, 75, 10]);
    expect(parsed.flatMap((message) => message.items)).toEqual(items);
    expect(parsed.every((message) => message.v === 1 && message.flow === 'seen-callback' && message.requestId === 'req-1')).toBe(true);
  });

  it('tags each message with its flow as a message attribute', () => {
    const messages = encodeTrackMessages('seen-callback', 'req-2', [attribute(1)], 75);

    expect(messages).toHaveLength(1);
    expect(messages[0]?.attributes).toEqual({ flow: 'seen-callback' });
  });

  it('never puts more objects in a message than the configured cap', () => {
    const items = Array.from({ length: 1_000 }, (_, i) => attribute(i));

    const messages = encodeTrackMessages('lytics-audiences', 'req-3', items, 40);

    const sizes = messages.map((message) => validate(trackMessageSchema, JSON.parse(message.body)).items.length);
    expect(Math.max(...sizes)).toBe(40);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(1_000);
  });

  it('splits large objects across more messages to stay under the message size', () => {
    const items = Array.from({ length: 10 }, (_, i): TrackItem => ({ kind: 'attributes', object: { braze_id: String(i), note: 'n'.repeat(50 * 1024) } }));

    const messages = encodeTrackMessages('seen-callback', 'req-4', items, 75);

    expect(messages.length).toBeGreaterThan(1);
    expect(messages.every((message) => byteLength(message.body) <= 200 * 1024)).toBe(true);
    expect(messages.flatMap((message) => validate(trackMessageSchema, JSON.parse(message.body)).items)).toEqual(items);
  });

  it('packs several calls worth of attribute objects a message when asked, but never a message holding an event', () => {
    const attributes = Array.from({ length: 1_000 }, (_, i) => attribute(i));
    const packed = encodeTrackMessages('lytics-audiences', 'req-6', attributes, 75, undefined, 4);
    expect(packed.map((message) => validate(trackMessageSchema, JSON.parse(message.body)).items.length)).toEqual([300, 300, 300, 100]);

    const mixed = [...attributes.slice(0, 200), event(1)];
    const sizes = encodeTrackMessages('lytics-audiences', 'req-7', mixed, 75, undefined, 4).map(
      (message) => validate(trackMessageSchema, JSON.parse(message.body)).items.length,
    );
    expect(sizes).toEqual([75, 75, 51]);
  });

  it('refuses a message whose object is not a JSON object, naming where', () => {
    for (const object of [null, [], 'text', 3]) {
      expect(() => validate(trackMessageSchema, { v: 1, flow: 'f', requestId: 'r', items: [{ kind: 'attributes', object }] })).toThrow('items[0].object');
    }
  });

  it('refuses an item of another kind, or not an object, naming where, and takes the items as they are', () => {
    const item = (kind: unknown) => ({
      v: 1,
      flow: 'f',
      requestId: 'r',
      items: [
        { kind: 'events', object: { name: 'e' } },
        { kind, object: { external_id: 'u' } },
      ],
    });
    expect(() => validate(trackMessageSchema, item('attribute'))).toThrow('items[1].kind');
    expect(() => validate(trackMessageSchema, { v: 1, flow: 'f', requestId: 'r', items: [{ kind: 'attributes', object: {} }, 'x'] })).toThrow('items[1]');
    expect(() => validate(trackMessageSchema, { v: 1, flow: 'f', requestId: 'r', items: {} })).toThrow('items');
    const body = item('purchases');
    expect(validate(trackMessageSchema, body).items).toBe(body.items);
  });

  it('makes no message for no objects, since an empty message would not parse', () => {
    expect(encodeTrackMessages('seen-callback', 'req-5', [], 75)).toEqual([]);
    expect(() => validate(trackMessageSchema, { v: 1, flow: 'seen-callback', requestId: 'r', items: [] })).toThrow('items');
  });
});
