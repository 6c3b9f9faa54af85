import { ChangeMessageVisibilityBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { parsePrioritization } from '../../../functions/braze/prioritization';
import { build, noticeKind, refusedRecipients, triggerBody } from '../../../functions/braze/trigger-delivery';
import { catalogue } from '../../../functions/catalogue';
import { loadConfig } from '../../../functions/core/config';
import { createDeps } from '../../../functions/core/deps';
import { ConfigError } from '../../../functions/core/errors';
import { HttpClient } from '../../../functions/core/http';
import { type OutgoingMessage, QueueSender } from '../../../functions/core/queue';
import type { SecretStore } from '../../../functions/core/secrets';
import type { TriggerMessage } from '../../../functions/core/track-queue';
import { errorThrownBy, FakeClock, reply, scriptedFetch, sqsRecord } from '../helpers';

const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/braze-triggers-dlq';
const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'a', functionName: 'f' } as unknown as Context;

const recipient = (who: { external_user_id?: string; email?: string }, fields: Record<string, unknown> = {}): TriggerMessage => ({
  v: 1,
  flow: 'odp-activation',
  requestId: 'r-1',
  kind: 'canvas',
  target: 'canvas-7',
  recipient: { ...who, fields },
});

/** A DLQ that records what is parked, with its reason. */
class RecordingDlq extends QueueSender {
  readonly parked: { body: unknown; reason: string | undefined }[] = [];
  constructor() {
    super(new SQSClient({ region: 'eu-west-1' }));
  }
  override async sendAll(_queueUrl: string, messages: readonly OutgoingMessage[]): Promise<string[]> {
    for (const message of messages) this.parked.push({ body: JSON.parse(message.body), reason: message.attributes?.parked_reason });
    return messages.map((_, i) => `dlq-${i}`);
  }
}

/** The braze-triggers consumer against scripted Braze answers, with SQS mocked (visibility changes recorded). */
function consumer(...answers: Parameters<typeof scriptedFetch>) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const clock = new FakeClock();
  const { fetch, requests } = scriptedFetch(...answers);
  const secrets: SecretStore = { get: async () => ({ api_key: 'braze-key' }), inboundTokens: async () => [], refresh: async () => undefined };
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const sqsMock = mockClient(sqs);
  sqsMock.onAnyCommand().resolves({});
  const queue = new RecordingDlq();
  const config = loadConfig({
    LOG_LEVEL: 'SILENT',
    BRAZE_REST_ENDPOINT: 'https://rest.braze.test',
    DLQ_URL,
    QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/braze-triggers',
  });
  const deps = createDeps('braze-triggers-delivery', config, { secrets, sqs, queue, clock, http: new HttpClient({ fetch, clock }) });
  const handler = build(deps, catalogue.queue('braze-triggers'));
  const waits = () =>
    sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).flatMap((call) => (call.args[0].input.Entries ?? []).map((entry) => entry.VisibilityTimeout));
  return { handler, requests, queue, clock, waits };
}

describe('braze-triggers: the trigger call Braze documents', () => {
  it('gives an email-only recipient the prioritization Braze requires with email, and an external id none', () => {
    const { body } = triggerBody(
      [recipient({ email: 'ada@example.com' }, { offer: 'A' }), recipient({ external_user_id: 'u-2' })],
      ['identified', 'most_recently_updated'],
    );

    expect(body).toEqual({
      canvas_id: 'canvas-7',
      recipients: [
        {
          email: 'ada@example.com',
          prioritization: ['identified', 'most_recently_updated'],
          canvas_entry_properties: { offer: 'A' },
          attributes: { offer: 'A' },
        },
        { external_user_id: 'u-2', canvas_entry_properties: {}, attributes: {} },
      ],
    });
  });

  it('reads BRAZE_EMAIL_PRIORITIZATION as a JSON array or a comma list of the values Braze allows, never identified and unidentified together', () => {
    expect(parsePrioritization('["identified","most_recently_updated"]')).toEqual(['identified', 'most_recently_updated']);
    expect(parsePrioritization('unidentified, least_recently_updated')).toEqual(['unidentified', 'least_recently_updated']);
    expect(errorThrownBy(ConfigError, () => parsePrioritization('identified,unidentified')).message).toContain('exclude each other');
    expect(errorThrownBy(ConfigError, () => parsePrioritization('["newest"]')).message).toContain('each value one of');
    expect(errorThrownBy(ConfigError, () => parsePrioritization('[]')).message).toContain('at least one');
  });

  it("reads a notice (Braze's answer for a paused, stopped or archived Canvas) as every recipient of the call refused, with its kind", () => {
    const messages = [recipient({ external_user_id: 'u-1' }), recipient({ external_user_id: 'u-2' })];
    // The notice texts Braze documents (braze-inc/braze-docs post_send_triggered_canvases.md, "Example success response").
    const paused = JSON.stringify({
      notice: 'The Canvas is paused. Resume the Canvas to ensure trigger requests will take effect.',
      dispatch_id: 'd-1',
      message: 'success',
    });
    const archived = JSON.stringify({
      notice: 'The Canvas is archived. Unarchive the Canvas to ensure trigger requests will take effect.',
      dispatch_id: 'd-1',
      message: 'success',
    });

    expect(refusedRecipients(messages, paused).map((r) => [r.bodyIndex, r.reason])).toEqual([
      [0, 'braze_trigger_notice:paused'],
      [1, 'braze_trigger_notice:paused'],
    ]);
    expect(refusedRecipients(messages, archived).map((r) => r.reason)).toEqual(['braze_trigger_notice:archived', 'braze_trigger_notice:archived']);
    expect(noticeKind('The Canvas is stopped.')).toBe('stopped');
    expect(refusedRecipients(messages, JSON.stringify({ dispatch_id: 'd-1', message: 'success' }))).toEqual([]);
  });
});

describe('braze-triggers consumer', () => {
  it('parks every recipient of a call Braze answers 201 with a notice (nothing was sent), each with the reason', async () => {
    const notice = { notice: 'The Canvas is paused. Resume the Canvas to ensure trigger requests will take effect.', dispatch_id: 'd-1', message: 'success' };
    const { handler, queue, requests } = consumer(reply(201, JSON.stringify(notice)));

    const result = (await handler(
      {
        Records: [
          sqsRecord('m-1', JSON.stringify(recipient({ external_user_id: 'u-1' }))),
          sqsRecord('m-2', JSON.stringify(recipient({ email: 'b@example.com' }))),
        ],
      },
      context,
    )) as SQSBatchResponse;

    expect(requests).toHaveLength(1);
    expect(JSON.parse(requests[0]!.body!).recipients[1]).toMatchObject({ email: 'b@example.com', prioritization: ['identified', 'most_recently_updated'] });
    expect(result.batchItemFailures).toEqual([]);
    expect(queue.parked.map((p) => p.reason)).toEqual(['braze_trigger_notice:paused', 'braze_trigger_notice:paused']);
    expect(queue.parked.map((p) => (p.body as TriggerMessage).recipient)).toEqual([
      { external_user_id: 'u-1', fields: {} },
      { email: 'b@example.com', fields: {} },
    ]);
  });

  it('waits for a 429 whose X-RateLimit-Reset is an hour away (the message comes back then), without retrying in-process', async () => {
    const clock = new FakeClock();
    const resetInAnHour = String(Math.floor(clock.now() / 1000) + 3_600);
    const { handler, requests, waits, queue } = consumer(reply(429, '{"message":"Rate limit exceeded"}', { 'x-ratelimit-reset': resetInAnHour }));

    const result = (await handler({ Records: [sqsRecord('m-1', JSON.stringify(recipient({ external_user_id: 'u-1' })))] }, context)) as SQSBatchResponse;

    expect(requests).toHaveLength(1);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    const [wait] = waits();
    expect(wait).toBeGreaterThanOrEqual(3_599);
    expect(wait).toBeLessThanOrEqual(3_601);
    expect(queue.parked).toEqual([]);
  });
});
