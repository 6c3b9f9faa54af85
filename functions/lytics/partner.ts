import type { Partner } from '../core/catalogue-types';
import { lyticsFlows, lyticsJobs, lyticsQueues } from './catalogue';
import { lyticsDoctor } from './doctor';
import { lyticsSandboxAnswer, lyticsSandboxBody } from './sandbox';
import { lyticsSettings } from './settings';

/** Lytics CDP (seed 003). */
export const lytics: Partner = {
  id: 'lytics',
  description: 'Lytics CDP: audiences into Braze, Braze profiles and segment exports into Lytics',
  settings: {
    schema: lyticsSettings,
    deployDefaults: { LYTICS_API_URL: 'https://api.lytics.io', LYTICS_BULK_API_URL: 'https://bulk.lytics.io' },
  },
  secret: { inbound: true, outbound: ['api_token'] },
  sandbox: { urlSetting: 'LYTICS_API_URL', otherUrlSettings: ['LYTICS_BULK_API_URL'], answer: lyticsSandboxAnswer, readBody: lyticsSandboxBody },
  doctor: lyticsDoctor,
  flows: lyticsFlows,
  queues: lyticsQueues,
  jobs: lyticsJobs,
};
