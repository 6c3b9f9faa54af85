import type { Partner } from '../core/catalogue-types';
import { brazeQueues } from './catalogue';
import { brazeDoctor } from './doctor';
import { brazeSandboxAnswer } from './sandbox';
import { brazeSettings } from './settings';

/** Braze: always deployed; its delivery lanes serve every into-Braze flow of the partners. */
export const braze: Partner = {
  id: 'braze',
  description: 'Braze REST API (/users/track)',
  alwaysOn: true,
  settings: { schema: brazeSettings, deployRequired: ['BRAZE_REST_ENDPOINT'] },
  secret: { inbound: false, outbound: ['api_key'] },
  sandbox: { urlSetting: 'BRAZE_REST_ENDPOINT', answer: brazeSandboxAnswer },
  doctor: brazeDoctor,
  flows: [],
  queues: brazeQueues,
  jobs: [],
};
