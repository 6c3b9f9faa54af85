/**
 * Braze's own limits, declared once (the catalogue, the settings and the partners that feed Braze
 * read them from here).
 */

/**
 * Most objects (attributes + events + purchases together) one `POST /users/track` call may carry
 * (braze-inc/braze-docs _docs/_api/endpoints/user_data/post_user_track.md).
 */
export const BRAZE_MAX_OBJECTS_PER_TRACK = 75;

/** Most recipients one campaign or Canvas trigger call (`/campaigns/trigger/send`, `/canvas/trigger/send`) may carry. */
export const BRAZE_MAX_RECIPIENTS_PER_TRIGGER = 50;
