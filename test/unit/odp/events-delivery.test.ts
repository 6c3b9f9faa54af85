import { PermanentDeliveryError, RetryableDeliveryError, TooLargeDeliveryError } from '../../../functions/core/errors';
import { invalidEventIndexes } from '../../../functions/odp/events-delivery';

/** ODP's 400 for a batch of events (ZaiusInc/node-sdk src/Api/lib/ApiV3.ts V3ErrorResponse, V3InvalidEventDetail). */
const refusal = (invalids: unknown, status = 400) =>
  new PermanentDeliveryError(`odp /v3/events answered ${status}`, status, {
    responseText: JSON.stringify({ title: 'Bad Request', status, timestamp: '2024-01-15T12:00:00.000Z', detail: { invalids } }),
  });

describe("ODP's 400 naming the invalid events (detail.invalids)", () => {
  it('gives the indexes it names, in order, once each', () => {
    expect(
      invalidEventIndexes(
        refusal([
          { event: 7, message: 'x' },
          { event: 2, message: 'y' },
          { event: 7, message: 'z' },
        ]),
        10,
      ),
    ).toEqual([2, 7]);
  });

  it('gives nothing (the core bisects) for an index the call did not hold, a body without invalids, another status or another error', () => {
    expect(invalidEventIndexes(refusal([{ event: 10, message: 'x' }]), 10)).toBeUndefined();
    expect(invalidEventIndexes(refusal([]), 10)).toBeUndefined();
    expect(invalidEventIndexes(refusal([{ field: 'name', reason: 'already used' }]), 10)).toBeUndefined();
    expect(invalidEventIndexes(new PermanentDeliveryError('odp answered 400', 400, { responseText: 'not json' }), 10)).toBeUndefined();
    expect(
      invalidEventIndexes(new PermanentDeliveryError('odp answered 422', 422, { responseText: JSON.stringify({ detail: { invalids: [{ event: 1 }] } }) }), 10),
    ).toBeUndefined();
    expect(invalidEventIndexes(new TooLargeDeliveryError('odp answered 413', 413), 10)).toBeUndefined();
    expect(invalidEventIndexes(new RetryableDeliveryError('odp answered 503', 503), 10)).toBeUndefined();
  });
});
