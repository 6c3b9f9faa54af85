import * as z from 'zod/mini';
import type { DeliveryQueue } from '../core/catalogue-types';
import { createDeliveryConsumer, type Refusal } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { joinUrl } from '../core/http';
import { requireSecret } from '../core/secrets';
import { type TriggerMessage, triggerMessageSchema } from '../core/track-queue';
import { brazeQueues } from './catalogue';
import { type Prioritization, parsePrioritization } from './prioritization';
import { brazeSettings } from './settings';

/**
 * The body of one trigger call: a campaign's (or Canvas's) recipients, in the order given. A
 * recipient identified by `email` carries `prioritization`, which Braze requires with `email`
 * (braze-inc/braze-docs post_send_triggered_campaigns.md, post_send_triggered_canvases.md).
 * Canvas entry properties go as `canvas_entry_properties`, which Braze keeps accepting beside its
 * newer name `context` ("canvas_entry_properties is backward compatible", the Canvas pages).
 */
export function triggerBody(messages: readonly TriggerMessage[], prioritization: readonly Prioritization[]): { path: string; body: Record<string, unknown> } {
  const [first] = messages;
  if (!first) throw new RangeError('no recipient');
  const campaign = first.kind === 'campaign';
  const recipients = messages.map(({ recipient }) => ({
    ...(recipient.external_user_id !== undefined
      ? { external_user_id: recipient.external_user_id }
      : { email: recipient.email, prioritization: [...prioritization] }),
    [campaign ? 'trigger_properties' : 'canvas_entry_properties']: recipient.fields,
    attributes: recipient.fields,
  }));
  return campaign
    ? { path: 'campaigns/trigger/send', body: { campaign_id: first.target, recipients } }
    : { path: 'canvas/trigger/send', body: { canvas_id: first.target, recipients } };
}

const answerSchema = z.looseObject({
  notice: z.optional(z.string()),
  errors: z.optional(z.array(z.looseObject({ type: z.optional(z.string()), index: z.optional(z.number()) }))),
});

/**
 * What a `notice` in a success answer says, as a reason word: Braze answers 201 with a notice and
 * sends nothing when the Canvas (or campaign) is archived, stopped or paused ("The Canvas is
 * paused. Resume the Canvas to ensure trigger requests will take effect.", "The Canvas is archived.
 * Unarchive the Canvas ...": braze-inc/braze-docs post_send_triggered_canvases.md, "Example
 * success response").
 */
export function noticeKind(notice: string): 'archived' | 'stopped' | 'paused' | 'notice' {
  if (/archived/i.test(notice)) return 'archived';
  if (/stopped/i.test(notice)) return 'stopped';
  if (/paused|not active|inactive/i.test(notice)) return 'paused';
  return 'notice';
}

/**
 * Recipients Braze did not send to inside a success answer, as refusals to park: every recipient
 * of the call when the answer has a `notice` (`braze_trigger_notice:<paused|archived|stopped|notice>`:
 * nothing was sent), else those its `errors: [{type, index}]` name (`braze_trigger_error:<type>`).
 */
export function refusedRecipients(messages: readonly TriggerMessage[], text: string): Refusal<TriggerMessage>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const answer = z.safeParse(answerSchema, parsed);
  if (!answer.success) return [];
  if (answer.data.notice !== undefined && answer.data.notice.trim() !== '') {
    const reason = `braze_trigger_notice:${noticeKind(answer.data.notice)}`;
    return messages.map((message, bodyIndex) => ({ body: message, reason, records: 1, bodyIndex }));
  }
  return (answer.data.errors ?? []).flatMap((error) => {
    const message = error.index !== undefined ? messages[error.index] : undefined;
    return message ? [{ body: message, reason: `braze_trigger_error:${error.type ?? 'unknown'}`, records: 1, bodyIndex: error.index! }] : [];
  });
}

/**
 * Drains braze-triggers: the recipients of one campaign (or Canvas) combined, BRAZE_MAX_RECIPIENTS_PER_TRIGGER (50) per
 * `POST /campaigns/trigger/send` (`/canvas/trigger/send`), fields as trigger_properties
 * (canvas_entry_properties) and attributes, email-only recipients with BRAZE_EMAIL_PRIORITIZATION.
 * A 429 waits until its X-RateLimit-Reset (Braze's hourly window: up to an hour), through the
 * message's visibility; 5xx retried, then the DLQ. A `notice` in the 201 (Canvas or campaign
 * paused, stopped or archived: nothing sent) is not a delivery: the call's recipients are parked
 * with the reason; recipients Braze refuses inside a success answer are parked one by one.
 */
export function build(deps: Deps, queue: DeliveryQueue) {
  const settings = settingsOf(deps, brazeSettings);
  const endpoint = requireSetting(settings, 'BRAZE_REST_ENDPOINT');
  const prioritization = parsePrioritization(settings.BRAZE_EMAIL_PRIORITIZATION);
  return createDeliveryConsumer(
    {
      queue,
      settings,
      schema: triggerMessageSchema,
      weight: () => 1,
      group: (message) => `${message.kind}:${message.target}`,
      send: async (messages, call) => {
        const key = await requireSecret(deps.secrets, 'braze', 'api_key');
        const { path, body } = triggerBody(messages, prioritization);
        const response = await call.http.send(
          {
            method: 'POST',
            url: joinUrl(endpoint, path),
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          },
          { label: `braze /${path}`, deadline: call.deadline },
        );
        const refused = refusedRecipients(messages, response.text);
        const notice = refused.find((refusal) => refusal.reason.startsWith('braze_trigger_notice:'));
        if (notice) {
          deps.logger.warn(
            `braze sent nothing for a ${messages[0]!.kind}: its answer carries a notice (resume or unarchive it in Braze, then redrive braze-triggers)`,
            {
              kind: messages[0]!.kind,
              reason: notice.reason,
              recipients: messages.length,
            },
          );
        }
        return refused;
      },
    },
    deps,
  );
}

export const handler = lazyHandler(brazeQueues, build);
