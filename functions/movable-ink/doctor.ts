import type { DoctorCheck } from '../core/catalogue-types';

export const movableInkDoctor: readonly DoctorCheck[] = [
  {
    name: 'POST <MOVABLE_INK_API_URL> (behavioral events)',
    urlSetting: 'MOVABLE_INK_API_URL',
    // Movable Ink issues an endpoint URL (its key inside) and Basic credentials for its Customer
    // Data API, which ingests behavioral events; Braze's guide tests the connection by sending one.
    source: "Braze's Movable Ink Customer Data API guide (braze.com/docs/partners/message_personalization/dynamic_content/movable_ink/customer_data_api)",
    cannotCheck: 'cannot check without sending: the Customer Data API only takes events, and any event it takes is stored on a profile',
  },
];
