import { BULK_CALLS_PER_MESSAGE, callsPerMessage } from '../../../functions/braze/catalogue';
import { BRAZE_MAX_OBJECTS_PER_TRACK, BRAZE_MAX_RECIPIENTS_PER_TRIGGER } from '../../../functions/braze/limits';
import { brazeSettings } from '../../../functions/braze/settings';
import { catalogue } from '../../../functions/catalogue';
import { loadSettings } from '../../../functions/core/settings';

describe("Braze's limits, declared once in functions/braze/limits.ts", () => {
  it('are the documented 75 objects per /users/track call and 50 recipients per trigger call', () => {
    expect(BRAZE_MAX_OBJECTS_PER_TRACK).toBe(75);
    expect(BRAZE_MAX_RECIPIENTS_PER_TRIGGER).toBe(50);
  });

  it('are what the Braze lanes, the BRAZE_MAX_OBJECTS_PER_REQUEST default and cap, and the Sendbird /users/track facade keep to', () => {
    for (const id of ['braze-track', 'braze-track-bulk']) expect(catalogue.queue(id).limits.itemsPerCall).toBe(BRAZE_MAX_OBJECTS_PER_TRACK);
    expect(catalogue.queue('braze-triggers').limits.itemsPerCall).toBe(BRAZE_MAX_RECIPIENTS_PER_TRIGGER);
    expect(loadSettings(brazeSettings, {}).BRAZE_MAX_OBJECTS_PER_REQUEST).toBe(BRAZE_MAX_OBJECTS_PER_TRACK);
    expect(() => loadSettings(brazeSettings, { BRAZE_MAX_OBJECTS_PER_REQUEST: String(BRAZE_MAX_OBJECTS_PER_TRACK + 1) })).toThrow(
      /BRAZE_MAX_OBJECTS_PER_REQUEST/,
    );
    expect(catalogue.flow('sendbird-braze-callback').limits.maxRecords).toBe(BRAZE_MAX_OBJECTS_PER_TRACK);
  });

  it('give both /users/track lanes batches of the same 100 calls worth: the bulk lane packs several calls a message in smaller batches', () => {
    const objectsPerBatch = (id: string, callsPerMessage: number) => {
      const { drive, limits } = catalogue.queue(id);
      if (drive.kind !== 'event-source') throw new Error(`${id} is not drained by an event source`);
      return drive.batchSize * callsPerMessage * limits.itemsPerCall;
    };
    expect(BULK_CALLS_PER_MESSAGE).toBeGreaterThan(1);
    expect(objectsPerBatch('braze-track', 1)).toBe(100 * BRAZE_MAX_OBJECTS_PER_TRACK);
    expect(objectsPerBatch('braze-track-bulk', BULK_CALLS_PER_MESSAGE)).toBe(100 * BRAZE_MAX_OBJECTS_PER_TRACK);
    // What the ingress packs by follows each queue's lane.
    expect(callsPerMessage('braze-track-bulk')).toBe(BULK_CALLS_PER_MESSAGE);
    expect(callsPerMessage('braze-track')).toBe(1);
  });
});
