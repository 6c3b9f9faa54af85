import type { DoctorCheck } from '../core/catalogue-types';

export const seenDoctor: readonly DoctorCheck[] = [
  {
    name: 'POST /v1/campaigns/<slug>/receivers/',
    urlSetting: 'SEEN_API_URL',
    // SEEN's legacy API documents one call, "Create a new Receiver", which starts a personalised
    // video (and its e-mail or SMS, if the campaign sends them): there is no read to try the token on.
    source: 'SEEN API 1.0 Legacy (docs.seen.io): Authorization: Token, POST /v1/campaigns/{campaign_slug}/receivers/ only',
    cannotCheck: "cannot check without sending: SEEN's receivers API has one call, and it creates receivers (videos, e-mails)",
  },
];
