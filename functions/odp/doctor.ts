import type { DoctorCheck, DoctorVerdict } from '../core/catalogue-types';

/**
 * The least invasive authenticated ODP call: list the schema's objects, a read
 * (GET /v3/schema/objects, "List objects" in ODP's REST API reference,
 * docs.developers.optimizely.com/optimizely-data-platform/reference/list-objects-1; the Zaius node
 * SDK's `getAllObjects`, ZaiusInc/node-sdk src/Api/Schema/objects.ts, with the key in `x-api-key`
 * as src/Api/lib/ApiV3.ts sends it). ODP's public key (tracker id) "only allows developers to push
 * data" (ODP "Authenticate with ODP APIs"), and pushing is all the bridge does: a 403 on this read
 * may be that key, which still delivers, so it is not called a refusal.
 */
function readSchemaAnswer(answer: { status: number; text: string }): DoctorVerdict | undefined {
  if (answer.status !== 403) return undefined;
  return {
    result: 'cannot check',
    why:
      'ODP refused a schema read (403): a public key (tracker id) may only push data, which is all the bridge ' +
      'does; a push cannot be checked without sending',
  };
}

export const odpDoctor: readonly DoctorCheck[] = [
  {
    name: 'GET /v3/schema/objects',
    urlSetting: 'ODP_API_URL',
    queues: ['odp-events'],
    source: 'ODP REST API reference "List objects" (GET /v3/schema/objects, x-api-key); ZaiusInc/node-sdk src/Api/Schema/objects.ts getAllObjects',
    request: (_settings, credential) => ({
      method: 'GET',
      path: 'v3/schema/objects',
      headers: { 'x-api-key': credential('api_key'), accept: 'application/json' },
    }),
    read: readSchemaAnswer,
  },
];
