import type { DoctorCheck, DoctorVerdict } from '../core/catalogue-types';
import { loadSettings } from '../core/settings';
import { lyticsSettings } from './settings';

/**
 * Lytics' collect API validates without storing when asked `dryrun=true`: the Lytics API reference
 * lists `dryrun` on POST /collect/json/{stream} and /collect/bulk/{stream}, with the answer
 * `{"status": 200, "message": "success", "data": {"message_count", "dryrun", ...}}`, and its Data
 * Upload guide (learn.lytics.com/developing/api-docs/data-upload) suggests "uploading files with
 * dryrun=true to verify your files will be accepted". The token goes in the Authorization header
 * (the reference's ApiKeyAuth: header `Authorization`), as users-delivery.ts sends it.
 */
function readDryRunAnswer(answer: { status: number; text: string }): DoctorVerdict | undefined {
  if (answer.status < 200 || answer.status >= 300) return undefined;
  let dryrun: unknown;
  try {
    dryrun = (JSON.parse(answer.text) as { data?: { dryrun?: unknown } }).data?.dryrun;
  } catch {
    /* no JSON: the status says enough */
  }
  if (dryrun === false) return { result: 'ok', why: 'the token was accepted, but Lytics answered dryrun: false (the empty event {} may have been stored)' };
  return { result: 'ok', why: `the token was accepted (${answer.status}, a dry run: nothing stored)` };
}

export const lyticsDoctor: readonly DoctorCheck[] = [
  {
    name: 'POST /collect/json/<LYTICS_USERS_STREAM>?dryrun=true',
    urlSetting: 'LYTICS_API_URL',
    queues: ['lytics-users'],
    source:
      'Lytics API reference, Data Upload (docs.lytics.com / contentstack.com/docs/developers/apis/lytics-api/v1/dataupload: ' +
      'POST /collect/json/{stream}, query dryrun); learn.lytics.com/developing/api-docs/data-upload',
    request: (settings, credential) => ({
      method: 'POST',
      path: `collect/json/${encodeURIComponent(loadSettings(lyticsSettings, settings).LYTICS_USERS_STREAM)}?dryrun=true`,
      headers: { authorization: credential('api_token'), 'content-type': 'application/json' },
      // One empty event: nothing about anyone, and a dry run stores nothing.
      body: '{}',
    }),
    read: readDryRunAnswer,
  },
];
