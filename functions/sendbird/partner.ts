import type { Partner } from '../core/catalogue-types';
import { sendbirdFlows, sendbirdQueues } from './catalogue';
import { sendbirdDoctor } from './doctor';
import { sendbirdSandboxAnswer } from './sandbox';
import { sendbirdSettings } from './settings';

/** Sendbird Notifications (seed 002). */
export const sendbird: Partner = {
  id: 'sendbird',
  description:
    'Sendbird Notifications: Braze webhooks into notifications; SENT / READ back as Braze events through ' +
    "a facade of Braze's /users/track for Sendbird's Braze integration",
  // The API host holds the application id (https://api-{app_id}.notifications.sendbird.com): no default.
  settings: { schema: sendbirdSettings, deployRequired: ['SENDBIRD_API_URL'] },
  // The API token travels in `Api-Token` (Sendbird Platform API, "Authentication"); a webhook's HMAC,
  // made with that token, in `x-sendbird-signature` (Sendbird webhooks docs).
  secret: { inbound: true, outbound: ['api_token'], headers: ['api-token', 'x-sendbird-signature'] },
  sandbox: { urlSetting: 'SENDBIRD_API_URL', answer: sendbirdSandboxAnswer },
  doctor: sendbirdDoctor,
  flows: sendbirdFlows,
  queues: sendbirdQueues,
  jobs: [],
};
