import type { Partner } from '../core/catalogue-types';
import { seenFlows, seenQueues } from './catalogue';
import { seenDoctor } from './doctor';
import { seenSandboxAnswer } from './sandbox';
import { seenSettings } from './settings';

/** SEEN personalised video (seed 000). */
export const seen: Partner = {
  id: 'seen',
  description: 'SEEN personalised video: receivers API and video-ready callbacks',
  settings: { schema: seenSettings, deployDefaults: { SEEN_API_URL: 'https://api.seen.io' } },
  secret: { inbound: true, outbound: ['api_token'] },
  sandbox: { urlSetting: 'SEEN_API_URL', answer: seenSandboxAnswer },
  doctor: seenDoctor,
  flows: seenFlows,
  queues: seenQueues,
  jobs: [],
};
