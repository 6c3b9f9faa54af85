import type { Partner } from '../core/catalogue-types';
import { odpFlows, odpJobs, odpQueues } from './catalogue';
import { odpDoctor } from './doctor';
import { odpSandboxAnswer } from './sandbox';
import { odpSettings } from './settings';
import { odpSetup } from './setup';

/** Optimizely Data Platform (seed 004). */
export const odp: Partner = {
  id: 'odp',
  description: 'Optimizely Data Platform: activations into Braze, Braze Currents into ODP events, Braze segments into ODP profiles nightly',
  settings: { schema: odpSettings, deployDefaults: { ODP_API_URL: 'https://api.zaius.com' } },
  // The private API key travels in `x-api-key` (ODP REST API, "Authentication": docs.developers.optimizely.com/optimizely-data-platform).
  secret: { inbound: true, outbound: ['api_key'], headers: ['x-api-key'] },
  sandbox: { urlSetting: 'ODP_API_URL', answer: odpSandboxAnswer },
  doctor: odpDoctor,
  setup: odpSetup,
  flows: odpFlows,
  queues: odpQueues,
  jobs: odpJobs,
};
