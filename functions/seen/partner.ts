import type { Partner } from '../core/catalogue-types';
import { seenFlows, seenQueues } from './catalogue';
import { seenDoctor } from './doctor';
import { seenSandboxAnswer, seenSandboxReadBody } from './sandbox';
import { seenSettings } from './settings';

/** SEEN personalised video (seed 000). */
export const seen: Partner = {
  id: 'seen',
  description: 'SEEN personalised video: receivers (legacy API or SEEN API 2.0) and video-ready callbacks',
  settings: { schema: seenSettings, deployDefaults: { SEEN_API_URL: 'https://api.seen.io' } },
  // api_token: the legacy Token, or the SEEN 2.0 API token; a 2.0 deployment may add
  // oauth_client_id and oauth_client_secret to the same secret (then used instead: functions/seen/data.ts).
  // Both go in `Authorization` (Token / Bearer), masked everywhere already.
  secret: { inbound: true, outbound: ['api_token'], optional: ['oauth_client_id', 'oauth_client_secret'] },
  sandbox: { urlSetting: 'SEEN_API_URL', answer: seenSandboxAnswer, readBody: seenSandboxReadBody },
  doctor: seenDoctor,
  flows: seenFlows,
  queues: seenQueues,
  jobs: [],
};
