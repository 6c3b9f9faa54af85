import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { TrackItem } from '../core/braze';
import type { FieldIssue } from '../core/errors';
import { eventTimeMs } from '../core/time';
import { formatPath } from '../core/validation';
import { type NotificationMessage, type NotificationRequest, type StatusRecord, statusRecordSchema } from './schemas';

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
 * The group of a notification: webhooks of one campaign (same template, variables and push
 * template) share it, and only they may share a batch call.
 */
export function notificationGroup(request: Pick<NotificationRequest, 'template_key' | 'variables' | 'push_template' | 'mode'>): string {
  return createHash('sha256')
    .update(canonical({ mode: request.mode, key: request.template_key, variables: request.variables ?? {}, push: request.push_template ?? null }))
    .digest('hex')
    .slice(0, 32);
}

/**
 * A Braze webhook -> queue messages. `realtime`: one message per target (one call each, sent at
 * once). `batch`: the targets in messages of at most `maxTargetsPerMessage`, grouped by campaign
 * so the consumer combines many webhooks into calls of up to 10,000 targets.
 */
export function notificationToMessages(
  request: NotificationRequest,
  meta: { requestId: string; maxTargetsPerMessage: number },
): NotificationMessage[] {
  const targets = request.targets ?? [request.recipient!];
  const group = notificationGroup(request);
  const base = {
    v: 1 as const,
    flow: 'sendbird-notifications' as const,
    requestId: meta.requestId,
    mode: request.mode,
    group,
    template: { key: request.template_key, variables: request.variables ?? {} },
    ...(request.push_template ? { push_template: request.push_template } : {}),
  };
  const size = request.mode === 'realtime' ? 1 : meta.maxTargetsPerMessage;
  const messages: NotificationMessage[] = [];
  for (let i = 0; i < targets.length; i += size) {
    const slice = targets.slice(i, i + size);
    // Per webhook id and target: a campaign's webhooks share one dispatch id, one per recipient, and
    // every recipient must be notified; only a retry of the same webhook to the same targets is a copy.
    messages.push({ ...base, targets: slice, ...(request.id ? { dedupe: `sendbird:${request.id}:${targetsKey(slice)}` } : {}) });
  }
  return messages;
}

/** The targets of a message as a dedupe key part: a hash, so no user id is stored in the dedupe table. */
function targetsKey(targets: readonly string[]): string {
  return createHash('sha256').update(targets.join('\n')).digest('hex').slice(0, 32);
}

/** The body of one Sendbird call for (parts of) messages of one group. */
export function sendbirdBody(messages: readonly NotificationMessage[]): string {
  const [first] = messages;
  if (!first) throw new RangeError('no message');
  return JSON.stringify({
    mode: first.mode,
    template: first.template,
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
