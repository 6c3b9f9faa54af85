import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { DestinationConfigError, PermanentDeliveryError, RetryableDeliveryError } from '../../../functions/core/errors';
import { errorCodeOf, faultOfCode, readSendbirdAnswer, refusalsOf } from '../../../functions/sendbird/answer';
import { type NotificationMessage, notificationRequestSchema } from '../../../functions/sendbird/schemas';
import { notificationToMessages } from '../../../functions/sendbird/transform';

/** A Sendbird answer fixture: its status and body, with the page it comes from. */
const answer = (name: string) => {
  const { status, body } = JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/sendbird', name), 'utf8')) as { status: number; body: unknown };
  return { status, text: JSON.stringify(body) };
};
const messagesTo = (...recipients: string[]): NotificationMessage[] =>
  recipients.flatMap((recipient, i) =>
    notificationToMessages(z.parse(notificationRequestSchema, { template_key: 'k', recipient }), { requestId: `r${i}`, maxTargetsPerMessage: 100 }),
  );

describe("faultOfCode: a Sendbird error code in the delivery contract's words", () => {
  it.each([
    [500910, 'retryable'],
    [429100, 'retryable'],
    [500999, 'retryable'],
    [503100, 'retryable'],
    [403100, 'config'],
    [403101, 'config'],
    [401121, 'config'],
    [400108, 'config'],
    [400111, 'refused'],
    [207100, 'refused'],
    [1400126, 'refused'],
    [undefined, 'refused'],
  ])('reads %s as %s', (code, fault) => {
    expect(faultOfCode(code)).toBe(fault);
  });
});

describe('readSendbirdAnswer', () => {
  it('is a delivery for a 200 without an error flag, or with an answer that is not JSON', () => {
    expect(readSendbirdAnswer(200, '{"notification_id":"n-1"}', ['u1'])).toEqual({ kind: 'delivered' });
    expect(readSendbirdAnswer(200, '', ['u1'])).toEqual({ kind: 'delivered' });
    expect(readSendbirdAnswer(202, 'accepted', ['u1'])).toEqual({ kind: 'delivered' });
  });

  it('reads "error": true inside a 200 as a failure of the whole call, classified by its code', () => {
    const { status, text } = answer('answer-200-rate-limited.json');

    expect(readSendbirdAnswer(status, text, ['u1', 'u2'])).toEqual({ kind: 'failed', code: 500910, fault: 'retryable', partial: false, failedTargets: [] });
  });

  it('reads a 207 naming a target under a failure key as a failure of that target only', () => {
    const { status, text } = answer('answer-207-partial.json');

    expect(readSendbirdAnswer(status, text, ['u-ok', 'u-failed'])).toEqual({
      kind: 'failed',
      code: 207100,
      fault: 'refused',
      partial: true,
      failedTargets: ['u-failed'],
    });
  });

  it('reads a target named as a key of a failure map, and ignores targets named elsewhere', () => {
    const text = JSON.stringify({ error: true, code: 207100, sent: ['u1'], errors: { u2: { code: 400111 } } });

    expect(readSendbirdAnswer(207, text, ['u1', 'u2'])).toMatchObject({ failedTargets: ['u2'] });
  });

  it('reads a 207 without a body as the documented 207100', () => {
    expect(readSendbirdAnswer(207, '', ['u1'])).toEqual({ kind: 'failed', code: 207100, fault: 'refused', partial: true, failedTargets: [] });
  });
});

describe('refusalsOf: what a failed answer does to the messages of the call', () => {
  it('delivers everything when Sendbird answered without an error', () => {
    expect(refusalsOf(messagesTo('a', 'b'), { kind: 'delivered' }, 200)).toEqual([]);
  });

  it('throws a RetryableDeliveryError for a retryable code in a 200: the call waits and goes again', () => {
    const { status, text } = answer('answer-200-rate-limited.json');

    expect(() => refusalsOf(messagesTo('a', 'b'), readSendbirdAnswer(status, text, ['a', 'b']), status)).toThrow(RetryableDeliveryError);
  });

  it('throws a DestinationConfigError for a key code: nothing parked', () => {
    const failed = readSendbirdAnswer(200, JSON.stringify({ error: true, code: 403100 }), ['a']);

    expect(() => refusalsOf(messagesTo('a'), failed, 200)).toThrow(DestinationConfigError);
  });

  it('parks the one message of a call refused in a 200, naming the code', () => {
    const { status, text } = answer('answer-200-invalid-value.json');
    const messages = messagesTo('a');

    expect(refusalsOf(messages, readSendbirdAnswer(status, text, ['a']), status)).toEqual([
      { body: messages[0], reason: 'sendbird_400111', records: 1, bodyIndex: 0 },
    ]);
  });

  it('has the core bisect a combined call refused whole in a 200 (nothing of it was sent)', () => {
    const { status, text } = answer('answer-200-invalid-value.json');

    expect(() => refusalsOf(messagesTo('a', 'b'), readSendbirdAnswer(status, text, ['a', 'b']), status)).toThrow(PermanentDeliveryError);
  });

  it('parks only the failed target of a 207, as a body holding that target alone; the rest is delivered', () => {
    const { status, text } = answer('answer-207-partial.json');
    const messages = messagesTo('u-ok', 'u-failed');

    const refusals = refusalsOf(messages, readSendbirdAnswer(status, text, ['u-ok', 'u-failed']), status);

    expect(refusals).toEqual([{ body: { ...messages[1], targets: ['u-failed'] }, reason: 'sendbird_207100', records: 1, bodyIndex: 1 }]);
  });

  it('parks every message of a 207 naming no target, never sending the call again (part of it was delivered)', () => {
    const { status, text } = answer('answer-207-unnamed.json');
    const messages = messagesTo('a', 'b');

    const refusals = refusalsOf(messages, readSendbirdAnswer(status, text, ['a', 'b']), status);

    expect(refusals.map((r) => [r.bodyIndex, r.reason])).toEqual([
      [0, 'sendbird_207100'],
      [1, 'sendbird_207100'],
    ]);
  });

  it('parks a named target even when its code is retryable: sending the call again would notify the others twice', () => {
    const text = JSON.stringify({ error: true, code: 500910, failed_targets: ['b'] });
    const messages = messagesTo('a', 'b');

    expect(refusalsOf(messages, readSendbirdAnswer(200, text, ['a', 'b']), 200)).toEqual([
      { body: messages[1], reason: 'sendbird_500910', records: 1, bodyIndex: 1 },
    ]);
  });
});

describe('errorCodeOf', () => {
  it("reads the code of a 400's body, and nothing from text that is not a Sendbird error", () => {
    expect(errorCodeOf(answer('answer-400-permission-denied.json').text)).toBe(403100);
    expect(errorCodeOf('<html>bad gateway</html>')).toBeUndefined();
    expect(errorCodeOf(undefined)).toBeUndefined();
  });
});
