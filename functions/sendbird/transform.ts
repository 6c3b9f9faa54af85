import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { TrackItem } from '../core/braze';
import type { FieldIssue } from '../core/errors';
import { eventTimeMs } from '../core/time';
import { formatPath } from '../core/validation';
import { CALLBACK_IDENTIFIERS, type CallbackEvent, type NotificationMessage, type NotificationRequest, type StatusRecord, statusRecordSchema } from './schemas';

/** JSON with keys sorted at every level: the same template and variables give the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The group of a notification: only messages of one group may share a Sendbird call. Batch webhooks
 * to one user each (a Braze campaign sends one per user) group by template and push template: their
 * variables may differ, Sendbird taking per-user variables (`template.variables.{user_id}`, see
 * sendbirdBody). Other messages (several targets, or realtime) also group by their variables, so a
 * call never repeats a multi-target message's variables per user.
 */
export function notificationGroup(
  request: Pick<NotificationRequest, 'template_key' | 'variables' | 'push_template' | 'mode'>,
  options: { perUser?: boolean } = {},
): string {
  const perUser = options.perUser === true && request.mode === 'batch';
  return createHash('sha256')
    .update(
      canonical({
        mode: request.mode,
        key: request.template_key,
        ...(perUser ? { perUser: true } : { variables: request.variables ?? {} }),
        push: request.push_template ?? null,
      }),
    )
    .digest('hex')
    .slice(0, 32);
}

/**
 * A Braze webhook -> queue messages. `realtime`: one message per target (one call each, sent at
 * once). `batch`: the targets in messages of at most `maxTargetsPerMessage`, grouped by campaign
 * so the consumer combines many webhooks into calls of up to 10,000 targets.
 */
export function notificationToMessages(request: NotificationRequest, meta: { requestId: string; maxTargetsPerMessage: number }): NotificationMessage[] {
  const targets = request.targets ?? [request.recipient!];
  const base = {
    v: 1 as const,
    flow: 'sendbird-notifications' as const,
    requestId: meta.requestId,
    mode: request.mode,
    template: { key: request.template_key, variables: request.variables ?? {} },
    ...(request.push_template ? { push_template: request.push_template } : {}),
  };
  const size = request.mode === 'realtime' ? 1 : meta.maxTargetsPerMessage;
  const messages: NotificationMessage[] = [];
  for (let i = 0; i < targets.length; i += size) {
    const slice = targets.slice(i, i + size);
    const group = notificationGroup(request, { perUser: slice.length === 1 });
    // Per webhook id and target: a campaign's webhooks share one dispatch id, one per recipient, and
    // every recipient must be notified; only a retry of the same webhook to the same targets is a copy.
    messages.push({ ...base, group, targets: slice, ...(request.id ? { dedupe: `sendbird:${request.id}:${targetsKey(slice)}` } : {}) });
  }
  return messages;
}

/** The targets of a message as a dedupe key part: a hash, so no user id is stored in the dedupe table. */
function targetsKey(targets: readonly string[]): string {
  return createHash('sha256').update(targets.join('\n')).digest('hex').slice(0, 32);
}

/**
 * A target that two messages of one call give different variables: Sendbird's per-user variables
 * hold one set per user, so such a call cannot be written (undefined when there is none).
 */
export function conflictingTarget(messages: readonly NotificationMessage[]): string | undefined {
  const seen = new Map<string, string>();
  for (const message of messages) {
    const variables = canonical(message.template.variables);
    for (const target of message.targets) {
      const before = seen.get(target);
      if (before !== undefined && before !== variables) return target;
      seen.set(target, variables);
    }
  }
  return undefined;
}

/**
 * The body of one Sendbird call for (parts of) messages of one group. When every message has the
 * same variables they are the template's variables, as before; when they differ (batch webhooks of
 * one campaign personalised per user) each target gets its own under `template.variables.{user_id}`,
 * the per-user form Sendbird's Send a notification API takes (SPEC section 2; a maintained peer,
 * vault-x's sendbird service, sends `variables: {[userId]: {...}}` the same way).
 */
export function sendbirdBody(messages: readonly NotificationMessage[]): string {
  const [first] = messages;
  if (!first) throw new RangeError('no message');
  const common = canonical(first.template.variables);
  const same = messages.every((message) => canonical(message.template.variables) === common);
  const variables = same
    ? first.template.variables
    : Object.fromEntries(messages.flatMap((message) => message.targets.map((target) => [target, message.template.variables] as const)));
  return JSON.stringify({
    mode: first.mode,
    template: { key: first.template.key, variables },
    targets: messages.flatMap((message) => message.targets),
    ...(first.push_template ? { push_template: first.push_template } : {}),
  });
}

export interface StatusBatch {
  items: { item: TrackItem; dedupe: string }[];
  rejected: { index: number; issues: FieldIssue[] }[];
}

/**
 * Sendbird SENT / READ statuses -> Braze custom events, one per record, each with its dedupe id
 * (user, notification, status): the same status arriving again creates no second event.
 */
export function statusesToTrackItems(input: readonly unknown[], options: { eventName: string; now: number }): StatusBatch {
  const items: StatusBatch['items'] = [];
  const rejected: StatusBatch['rejected'] = [];
  input.forEach((record, index) => {
    const parsed = z.safeParse(statusRecordSchema, record);
    const at = (path: PropertyKey[]) => formatPath([index, ...path]);
    if (!parsed.success) {
      rejected.push({ index, issues: parsed.error.issues.map((issue) => ({ path: at(issue.path), message: issue.message })) });
      return;
    }
    const status: StatusRecord = parsed.data;
    const time = eventTimeMs(status.timestamp, options.now);
    if (typeof time === 'string') {
      rejected.push({ index, issues: [{ path: at(['timestamp']), message: time }] });
      return;
    }
    items.push({
      dedupe: `sendbird-status:${status.user_id}:${status.notification_id}:${status.status}`,
      item: {
        kind: 'events',
        object: {
          external_id: status.user_id,
          name: status.event_name ?? options.eventName,
          time: new Date(time).toISOString(),
          properties: { status: status.status, notification_id: status.notification_id, ...(status.template_key ? { template_key: status.template_key } : {}) },
        },
      },
    });
  });
  return { items, rejected };
}

/**
 * The events of Sendbird's Braze callback -> Braze custom events, forwarded as Sendbird wrote them,
 * each with its dedupe id: a hash of its identifiers, name and properties (its `time` left out, so a
 * resend stamped later is still a copy; a hash, so no user id is stored in the dedupe table). The
 * same event posted twice, or twice in one request, reaches Braze once.
 */
export function callbackEventsToTrackItems(events: readonly CallbackEvent[]): { item: TrackItem; dedupe: string }[] {
  return events.map((event) => {
    const identifiers = Object.fromEntries(CALLBACK_IDENTIFIERS.filter((key) => event[key] !== undefined).map((key) => [key, event[key]]));
    const key = createHash('sha256')
      .update(canonical({ identifiers, name: event.name, properties: event.properties ?? {} }))
      .digest('hex')
      .slice(0, 40);
    return { item: { kind: 'events', object: { ...event } }, dedupe: `sendbird-callback:${key}` };
  });
}
