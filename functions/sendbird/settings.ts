import * as z from 'zod/mini';
import { setting } from '../core/settings';

/** Sendbird's settings (SPEC sections 2 and 5), with their defaults. */
export const sendbirdSettings = z.object({
  /** Notifications API base of your application, https://api-{app_id}.notifications.sendbird.com; unset locally means the sandbox. */
  SENDBIRD_API_URL: setting.optionalUrl(),
  /** Braze custom event for a notification's SENT / READ status (the seed's "Event name" field). */
  SENDBIRD_STATUS_EVENT_NAME: setting.text('sendbird_notification_status'),
  /**
   * Event names Sendbird's Braze callback may write (comma list); unset: any. The names are those
   * typed in the "Event name" field of each notification (the seed's "Suivre la distribution").
   */
  SENDBIRD_CALLBACK_EVENT_NAMES: setting.optionalText(),
  /** Targets per batch call: Sendbird takes up to 10,000 in `targets`. */
  SENDBIRD_MAX_TARGETS_PER_CALL: z._default(z.coerce.number().check(z.int(), z.positive(), z.maximum(10_000)), 10_000),
});
