import type { DoctorCheck } from '../core/catalogue-types';

export const sendbirdDoctor: readonly DoctorCheck[] = [
  {
    name: 'POST /v1/notifications',
    urlSetting: 'SENDBIRD_API_URL',
    // Sendbird's Notifications (Business Messaging) API overview: it "currently only supports one
    // API endpoint to send a notification" on https://api-{application_id}.notifications.sendbird.com/v1.
    source: 'Sendbird Notifications API overview (docs.sendbird.com/docs/notifications/v1/api/overview): one endpoint, to send',
    cannotCheck: 'cannot check without sending: the Notifications API has one endpoint, and it sends a notification',
  },
];
