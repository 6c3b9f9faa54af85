import * as z from 'zod/mini';
import { createDeliveryConsumer, type Refusal } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { queueDefinition } from '../core/flows';
import { joinUrl } from '../core/http';
import { requireSecret } from '../core/secrets';
import { type TriggerMessage, triggerMessageSchema } from '../core/track-queue';
import { brazeQueues } from './catalogue';
import { brazeSettings } from './settings';

export const FLOW_ID = 'braze-triggers-delivery';

/** The body of one trigger call: a campaign's (or Canvas's) recipients, in the order given. */
export function triggerBody(messages: readonly TriggerMessage[]): { path: string; body: Record<string, unknown> } {
  const [first] = messages;
  if (!first) throw new RangeError('no recipient');
  const campaign = first.kind === 'campaign';
  const recipients = messages.map(({ recipient }) => ({
    ...(recipient.external_user_id !== undefined ? { external_user_id: recipient.external_user_id } : { email: recipient.email }),
    [campaign ? 'trigger_properties' : 'canvas_entry_properties']: recipient.fields,
    attributes: recipient.fields,
  }));
  return campaign
    ? { path: 'campaigns/trigger/send', body: { campaign_id: first.target, recipients } }
    : { path: 'canvas/trigger/send', body: { canvas_id: first.target, recipients } };
}

const answerSchema = z.looseObject({
  errors: z.optional(z.array(z.looseObject({ type: z.optional(z.string()), index: z.optional(z.number()) }))),
});

/** Recipients Braze refused inside a success answer (`errors: [{type, index}]`), as refusals to park. */
export function refusedRecipients(messages: readonly TriggerMessage[], text: string): Refusal<TriggerMessage>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const answer = z.safeParse(answerSchema, parsed);
  if (!answer.success) return [];
  return (answer.data.errors ?? []).flatMap((error) => {
    const message = error.index !== undefined ? messages[error.index] : undefined;
    return message ? [{ body: message, reason: `braze_trigger_error:${error.type ?? 'unknown'}`, records: 1, bodyIndex: error.index! }] : [];
  });
}

/**
 * Drains braze-triggers: the recipients of one campaign (or Canvas) combined, 50 per
 * `POST /campaigns/trigger/send` (`/canvas/trigger/send`), fields as trigger_properties
 * (canvas_entry_properties) and attributes. 429 honours X-RateLimit-Reset; 5xx retried, then the
 * DLQ; recipients Braze refuses inside a success answer are parked one by one with the reason.
 */
export function build(deps: Deps) {
  const settings = settingsOf(deps, brazeSettings);
  const endpoint = requireSetting(settings, 'BRAZE_REST_ENDPOINT');
  return createDeliveryConsumer(
    {
      queue: queueDefinition(brazeQueues, 'braze-triggers'),
      settings,
      schema: triggerMessageSchema,
      weight: () => 1,
      group: (message) => `${message.kind}:${message.target}`,
      send: async (messages, call) => {
        const key = await requireSecret(deps.secrets, 'braze', 'api_key');
        const { path, body } = triggerBody(messages);
        const response = await call.http.send(
          { method: 'POST', url: joinUrl(endpoint, path), headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) },
          { label: `braze /${path}`, deadline: call.deadline },
        );
        return refusedRecipients(messages, response.text);
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
