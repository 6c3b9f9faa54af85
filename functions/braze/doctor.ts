import type { DoctorCheck, DoctorVerdict } from '../core/catalogue-types';

/**
 * What Braze answers a /users/track without attributes, events or purchases once the key is
 * accepted. Braze's error table (braze-inc/braze-docs, _docs/_api/errors.md) lists 401 for an
 * invalid key (or the wrong instance), 403 "Access Denied" for a key without the endpoint's
 * permission and 404 for an invalid URL, so a 400 about the body means the key got through; the
 * message itself is the one recorded in segmentio/action-destinations
 * (packages/destination-actions/src/destinations/braze/__tests__/multistatus.test.ts) and
 * rudderlabs/rudder-transformer's Braze fixtures: "Valid data must be provided in the 'attributes',
 * 'events', or 'purchases' fields."
 */
const NO_OBJECTS_MESSAGE = /valid data must be provided in the 'attributes', 'events', or 'purchases' fields/i;

/** Braze's JSON `message`, if the body has one. */
function messageOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    return typeof body.message === 'string' ? body.message : undefined;
  } catch {
    return undefined;
  }
}

/** A 400 is "key works" only when Braze says the body had no objects; any other 400 is not that answer. */
function readTrackAnswer(answer: { status: number; text: string }): DoctorVerdict | undefined {
  if (answer.status !== 400) return undefined;
  const message = messageOf(answer.text);
  if (message && NO_OBJECTS_MESSAGE.test(message)) {
    return { result: 'ok', why: 'the key was accepted: Braze read the empty body and asked for attributes, events or purchases' };
  }
  return { result: 'refused', why: `400 but not Braze's answer to an accepted key with no objects${message ? `: ${message}` : ''}` };
}

export const brazeDoctor: readonly DoctorCheck[] = [
  {
    name: 'POST /users/track, no objects',
    urlSetting: 'BRAZE_REST_ENDPOINT',
    queues: ['braze-track', 'braze-track-bulk'],
    // An empty body writes nothing: Braze refuses it with 400 after authenticating the key.
    source:
      "Braze API errors and responses (braze-inc/braze-docs _docs/_api/errors.md); the no-objects 400 message as in segmentio/action-destinations' Braze tests",
    request: (_settings, credential) => ({
      method: 'POST',
      path: 'users/track',
      headers: { authorization: `Bearer ${credential('api_key')}`, 'content-type': 'application/json' },
      body: '{}',
    }),
    read: readTrackAnswer,
  },
  {
    name: 'campaign and Canvas triggers',
    urlSetting: 'BRAZE_REST_ENDPOINT',
    queues: ['braze-triggers'],
    source:
      'Braze POST /campaigns/trigger/send and /canvas/trigger/send (braze-inc/braze-docs _docs/_api/endpoints/' +
      'messaging/send_messages/post_send_triggered_campaigns.md, ' +
      'post_send_triggered_canvases.md)',
    // Braze documents no dry run for them, and a trigger without recipients may send to the whole segment.
    cannotCheck:
      'cannot check without sending: Braze has no dry run for the trigger endpoints (a call without recipients ' +
      'may send to a whole segment); a key without the trigger permission shows as 403 in the braze-triggers ' +
      'consumer',
  },
];
