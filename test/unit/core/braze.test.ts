import { BrazeClient, buildTrackBody, objectErrorsFromResponse, type TrackItem } from '../../../functions/core/braze';
import { PermanentDeliveryError } from '../../../functions/core/errors';
import { HttpClient } from '../../../functions/core/http';
import { FakeClock, type Reply, reply, scriptedFetch } from '../helpers';

const attribute = (id: string): TrackItem => ({ kind: 'attributes', object: { external_id: id, plan: 'gold' } });
const event = (id: string): TrackItem => ({ kind: 'events', object: { external_id: id, name: 'video_ready', time: '2024-01-15T12:00:00Z' } });
const purchase = (id: string): TrackItem => ({ kind: 'purchases', object: { external_id: id, product_id: 'p1', price: 1, currency: 'EUR' } });

/** attributes at item indices 0 and 2, events at 1 and 3, a purchase at 4. */
const mixed: TrackItem[] = [attribute('u0'), event('u1'), attribute('u2'), event('u3'), purchase('u4')];

describe('buildTrackBody', () => {
  it('splits items by kind, in order, and records where each array position came from', () => {
    const { body, origin } = buildTrackBody(mixed);

    expect(body).toEqual({
      attributes: [mixed[0]?.object, mixed[2]?.object],
      events: [mixed[1]?.object, mixed[3]?.object],
      purchases: [mixed[4]?.object],
    });
    expect(origin).toEqual({ attributes: [0, 2], events: [1, 3], purchases: [4] });
  });

  it('leaves out the arrays no item uses', () => {
    const { body } = buildTrackBody([attribute('u0')]);

    expect(Object.keys(body)).toEqual(['attributes']);
  });
});

describe('objectErrorsFromResponse', () => {
  const { origin } = buildTrackBody(mixed);

  it('maps a Braze partial failure on attributes[1] back to item 2 of a mixed call', () => {
    const body = '{"message":"success","errors":[{"type":"\'external_id\' is required","input_array":"attributes","index":1}]}';

    expect(objectErrorsFromResponse(body, origin)).toEqual([{ itemIndex: 2, type: "'external_id' is required" }]);
  });

  it('maps several errors across arrays to their own items', () => {
    const body = JSON.stringify({
      message: 'success',
      errors: [
        { type: 'invalid time', input_array: 'events', index: 0 },
        { type: 'invalid currency', input_array: 'purchases', index: 0 },
        { type: 'invalid time', input_array: 'events', index: 1 },
      ],
    });

    expect(objectErrorsFromResponse(body, origin)).toEqual([
      { itemIndex: 1, type: 'invalid time' },
      { itemIndex: 4, type: 'invalid currency' },
      { itemIndex: 3, type: 'invalid time' },
    ]);
  });

  it('reports an error without a type as unknown', () => {
    const body = JSON.stringify({ errors: [{ input_array: 'attributes', index: 0 }] });

    expect(objectErrorsFromResponse(body, origin)).toEqual([{ itemIndex: 0, type: 'unknown' }]);
  });

  it('returns nothing for a clean success answer', () => {
    expect(objectErrorsFromResponse('{"message":"success"}', origin)).toEqual([]);
  });

  it.each([
    ['an empty body', ''],
    ['plain text', 'Internal Server Error'],
    ['JSON null', 'null'],
    ['a JSON array', '[]'],
    ['errors that are not a list', '{"errors":"nope"}'],
    ['an unknown input_array', '{"errors":[{"type":"x","input_array":"nonsense","index":0}]}'],
    ['an inherited property as input_array', '{"errors":[{"type":"x","input_array":"constructor","index":0}]}'],
    ['an index past the array', '{"errors":[{"type":"x","input_array":"attributes","index":7}]}'],
    ['an error without an index', '{"errors":[{"type":"x","input_array":"attributes"}]}'],
    ['an index that is a string', '{"errors":[{"type":"x","input_array":"attributes","index":"1"}]}'],
  ])('returns nothing for %s', (_what, body) => {
    expect(objectErrorsFromResponse(body, origin)).toEqual([]);
  });
});

describe('BrazeClient.track', () => {
  function brazeWith(replies: Reply[], endpoint = 'https://rest.fra-02.braze.eu', maxObjectsPerRequest = 75) {
    const { fetch, requests } = scriptedFetch(...replies);
    const http = new HttpClient({ clock: new FakeClock(), fetch, random: () => 0 });
    const braze = new BrazeClient({ endpoint, apiKey: async () => 'braze-rest-key', http, maxObjectsPerRequest });
    return { braze, requests };
  }

  it('posts the body to <endpoint>/users/track with the bearer key', async () => {
    const { braze, requests } = brazeWith([reply(201, '{"message":"success"}')]);

    const result = await braze.track(mixed);

    expect(result).toEqual({ status: 201, errors: [] });
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url).toBe('https://rest.fra-02.braze.eu/users/track');
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.headers.authorization).toBe('Bearer braze-rest-key');
    expect(requests[0]?.headers['content-type']).toBe('application/json');
    const sent: unknown = JSON.parse(requests[0]?.body ?? '');
    expect(sent).toEqual(buildTrackBody(mixed).body);
  });

  it('keeps the path of an endpoint that has one', async () => {
    const { braze, requests } = brazeWith([reply(201, '{"message":"success"}')], 'http://127.0.0.1:4010/braze');

    await braze.track([attribute('u0')]);

    expect(requests[0]?.url).toBe('http://127.0.0.1:4010/braze/users/track');
  });

  it('returns the objects Braze refused inside a success answer', async () => {
    const partial = '{"message":"success","errors":[{"type":"\'external_id\' is required","input_array":"attributes","index":1}]}';
    const { braze } = brazeWith([reply(201, partial)]);

    const result = await braze.track(mixed);

    expect(result.errors).toEqual([{ itemIndex: 2, type: "'external_id' is required" }]);
  });

  it('does not call Braze for no items', async () => {
    const { braze, requests } = brazeWith([reply(201)]);

    const result = await braze.track([]);

    expect(result).toEqual({ status: 204, errors: [] });
    expect(requests).toHaveLength(0);
  });

  it('accepts exactly the maximum number of objects', async () => {
    const { braze, requests } = brazeWith([reply(201, '{"message":"success"}')]);

    await braze.track(Array.from({ length: 75 }, (_, i) => attribute(`u${i}`)));

    const sent: unknown = JSON.parse(requests[0]?.body ?? '');
    expect(sent).toHaveProperty(['attributes', 'length'], 75);
  });

  it('refuses more objects than one call may carry, counting attributes, events and purchases together', async () => {
    const { braze, requests } = brazeWith([reply(201)]);
    const items = [...Array.from({ length: 40 }, (_, i) => attribute(`a${i}`)), ...Array.from({ length: 36 }, (_, i) => event(`e${i}`))];

    await expect(braze.track(items)).rejects.toThrow(RangeError);
    expect(requests).toHaveLength(0);
  });

  it('lets a permanent refusal (400) through as a PermanentDeliveryError', async () => {
    const { braze } = brazeWith([reply(400, '{"message":"Invalid request"}')]);

    await expect(braze.track([attribute('u0')])).rejects.toBeInstanceOf(PermanentDeliveryError);
  });

  it('exposes the configured cap', () => {
    const { braze } = brazeWith([], undefined, 50);

    expect(braze.maxObjectsPerRequest).toBe(50);
  });
});
