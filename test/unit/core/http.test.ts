import { DestinationConfigError, PermanentDeliveryError, RetryableDeliveryError, TooLargeDeliveryError } from '../../../functions/core/errors';
import {
  type AttemptInfo,
  backoffDelay,
  classifyAnswer,
  HttpClient,
  type HttpRequest,
  isRetryableStatus,
  joinUrl,
  MIN_ATTEMPT_MS,
  type RetryPolicy,
  serverRequestedDelay,
} from '../../../functions/core/http';
import { FakeClock, networkFailure, type Reply, rejectionOf, reply, scriptedFetch } from '../helpers';

const policy: RetryPolicy = { retries: 4, baseDelayMs: 200, maxDelayMs: 20_000, timeoutMs: 5_000 };
const request: HttpRequest = { method: 'POST', url: 'https://rest.example.braze.com/users/track', body: '{}' };
const label = 'braze /users/track';

function clientWith(replies: Reply[], options: { random?: () => number; policy?: RetryPolicy } = {}) {
  const clock = new FakeClock();
  const { fetch, requests } = scriptedFetch(...replies);
  const attempts: AttemptInfo[] = [];
  const client = new HttpClient({
    clock,
    fetch,
    random: options.random ?? (() => 0.5),
    policy: options.policy ?? policy,
    onAttempt: (info) => attempts.push(info),
  });
  return { client, clock, requests, attempts };
}

describe('HttpClient.send', () => {
  it('returns a 2xx answer with its status, headers and body at the first attempt', async () => {
    const { client, clock, requests } = clientWith([reply(201, '{"message":"success"}', { 'x-request-id': 'r1' })]);

    const response = await client.send(request, { label });

    expect(response.status).toBe(201);
    expect(response.text).toBe('{"message":"success"}');
    expect(response.headers.get('x-request-id')).toBe('r1');
    expect(requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('passes method, headers and body through to fetch', async () => {
    const { client, requests } = clientWith([reply(200)]);

    await client.send({ method: 'PUT', url: 'https://h.example/x', headers: { 'content-type': 'application/json' }, body: '{"a":1}' }, { label });

    expect(requests[0]).toEqual({ url: 'https://h.example/x', method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  });

  it('delivers after one retry when the first answer is 429', async () => {
    const { client, clock, requests } = clientWith([reply(429), reply(200, 'ok')]);

    const response = await client.send(request, { label });

    expect(response.status).toBe(200);
    expect(requests).toHaveLength(2);
    expect(clock.sleeps).toHaveLength(1);
  });

  it('waits exactly the Retry-After seconds before retrying', async () => {
    const { client, clock } = clientWith([reply(429, '', { 'retry-after': '3' }), reply(200)]);

    await client.send(request, { label });

    expect(clock.sleeps).toEqual([3_000]);
  });

  it('waits until the Retry-After HTTP date before retrying', async () => {
    const clock = new FakeClock(Date.UTC(2024, 0, 15, 12, 0, 0));
    const { fetch } = scriptedFetch(reply(503, '', { 'retry-after': 'Mon, 15 Jan 2024 12:00:07 GMT' }), reply(200));
    const client = new HttpClient({ clock, fetch, random: () => 0.5, policy });

    await client.send(request, { label });

    expect(clock.sleeps).toEqual([7_000]);
  });

  it('waits until the X-RateLimit-Reset epoch second, as Braze sends it, before retrying', async () => {
    const clock = new FakeClock(Date.UTC(2024, 0, 15, 12, 0, 0) + 250);
    const resetAt = Date.UTC(2024, 0, 15, 12, 0, 2) / 1000;
    const { fetch } = scriptedFetch(reply(429, '', { 'x-ratelimit-reset': String(resetAt) }), reply(201));
    const client = new HttpClient({ clock, fetch, random: () => 0.5, policy });

    await client.send(request, { label });

    expect(clock.sleeps).toEqual([1_750]);
  });

  it('stops retrying with a RetryableDeliveryError when the server asks for more than maxDelayMs', async () => {
    const { client, clock, requests } = clientWith([reply(429, '', { 'retry-after': '3600' }), reply(200)]);

    const error = await rejectionOf(RetryableDeliveryError, client.send(request, { label }));

    expect(error.status).toBe(429);
    expect(requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up on 500 forever after retries + 1 attempts, with exponentially growing jitter ceilings', async () => {
    const { client, clock, requests } = clientWith([reply(500)], { random: () => 0.999 });

    const error = await rejectionOf(RetryableDeliveryError, client.send(request, { label }));

    expect(error.status).toBe(500);
    expect(requests).toHaveLength(policy.retries + 1);
    const ceilings = [200, 400, 800, 1_600];
    expect(clock.sleeps).toHaveLength(ceilings.length);
    clock.sleeps.forEach((slept, attempt) => {
      expect(slept).toBeLessThan(ceilings[attempt] ?? 0);
      expect(slept).toBeGreaterThanOrEqual(Math.floor(0.999 * (ceilings[attempt] ?? 0)));
    });
    expect(clock.sleeps).toEqual([199, 399, 799, 1_598]);
  });

  it('caps the jitter ceiling at maxDelayMs', async () => {
    const capped: RetryPolicy = { retries: 4, baseDelayMs: 200, maxDelayMs: 500, timeoutMs: 5_000 };
    const { client, clock } = clientWith([reply(502)], { random: () => 0.999, policy: capped });

    await rejectionOf(RetryableDeliveryError, client.send(request, { label }));

    expect(clock.sleeps).toEqual([199, 399, 499, 499]);
  });

  it('retries when fetch itself rejects (network error) and then delivers', async () => {
    const { client, requests, attempts } = clientWith([networkFailure(), reply(200, 'ok')]);

    const response = await client.send(request, { label });

    expect(response.text).toBe('ok');
    expect(requests).toHaveLength(2);
    expect(attempts[0]).toMatchObject({ attempt: 0, error: 'TypeError' });
    expect(attempts[0]?.status).toBeUndefined();
  });

  it('throws a RetryableDeliveryError keeping the network error as cause once retries run out', async () => {
    const { client, requests } = clientWith([networkFailure()]);

    const error = await rejectionOf(RetryableDeliveryError, client.send(request, { label }));

    expect(error.status).toBeUndefined();
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(requests).toHaveLength(policy.retries + 1);
  });

  it('retries a 408 request timeout', async () => {
    const { client, requests } = clientWith([reply(408), reply(200)]);

    await client.send(request, { label });

    expect(requests).toHaveLength(2);
  });

  it.each([400, 409, 422, 413])('throws a PermanentDeliveryError (the records are refused) on %i without retrying', async (status) => {
    const { client, clock, requests, attempts } = clientWith([reply(status, 'refused'), reply(200)]);

    const error = await rejectionOf(PermanentDeliveryError, client.send(request, { label }));

    expect(error.status).toBe(status);
    expect(error.message).toBe(`${label} answered ${status}`);
    expect(requests).toHaveLength(1);
    expect(attempts).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it.each([301, 302, 307, 308, 401, 403, 404, 405])(
    'throws a DestinationConfigError (a key or an endpoint, not the records) on %i without retrying',
    async (status) => {
      const { client, clock, requests } = clientWith([reply(status, 'no', { location: 'https://elsewhere.example/' }), reply(200)]);

      const error = await rejectionOf(DestinationConfigError, client.send(request, { label }));

      expect(error.status).toBe(status);
      expect(requests).toHaveLength(1);
      expect(clock.sleeps).toEqual([]);
    },
  );

  it('says why a redirect is a fault: it is never followed', async () => {
    const { client } = clientWith([reply(302, '', { location: 'https://elsewhere.example/' })]);

    const error = await rejectionOf(DestinationConfigError, client.send(request, { label }));

    expect(error.message).toBe(`${label} answered 302: redirects are not followed`);
  });

  it('asks fetch never to follow a redirect, so no credential header leaves for another host', async () => {
    let init: RequestInit | undefined;
    const client = new HttpClient({
      fetch: async (_url, given) => {
        init = given;
        return new Response('{}', { status: 200 });
      },
    });

    await client.send(request, { label });

    expect(init?.redirect).toBe('manual');
  });

  it('refuses the record, not the endpoint, on a 404 of a path that names a record (fixedEndpoint: false)', async () => {
    const { client } = clientWith([reply(404)]);

    const error = await rejectionOf(PermanentDeliveryError, client.send({ ...request, fixedEndpoint: false }, { label }));

    expect(error).not.toBeInstanceOf(DestinationConfigError);
    expect(error.status).toBe(404);
  });

  it('keeps the answer text on the error it throws, for the partner to read a vendor code in a 4xx body', async () => {
    // Sendbird answers a token without permission with a 400 whose body names code 403100 (its
    // Notifications API error codes page): only the body tells it from a refused record.
    const body = '{"error": true, "code": 403100, "message": "Permission denied"}';
    const { client } = clientWith([reply(400, body), reply(401, 'bad key'), reply(503, 'busy')], { policy: { ...policy, retries: 0 } });

    expect((await rejectionOf(PermanentDeliveryError, client.send(request, { label }))).responseText).toBe(body);
    expect((await rejectionOf(DestinationConfigError, client.send(request, { label }))).responseText).toBe('bad key');
    const retryable = await rejectionOf(RetryableDeliveryError, client.send(request, { label }));
    expect(retryable.responseText).toBe('busy');
    expect(retryable.message).not.toContain('busy');
  });

  it('marks a 413 as too big, so the consumer splits the call', async () => {
    const { client } = clientWith([reply(413)]);

    await rejectionOf(TooLargeDeliveryError, client.send(request, { label }));
  });

  it('carries the wait a 429 asked for, once its retries are spent, for the queue to honour', async () => {
    const { client, clock } = clientWith([reply(429, '', { 'x-ratelimit-reset': String(Math.floor(new FakeClock().now() / 1000) + 3600) })], {
      policy: { ...policy, retries: 0 },
    });

    const error = await rejectionOf(RetryableDeliveryError, client.send(request, { label }));

    expect(error.retryAfterMs).toBeGreaterThanOrEqual(3_599_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(3_600_000);
    expect(clock.sleeps).toEqual([]);
  });

  it('keeps its clock, fetch and attempt reports when given another policy', async () => {
    const { client, requests, attempts } = clientWith([reply(503), reply(200)]);

    await rejectionOf(RetryableDeliveryError, client.withPolicy({ retries: 0 }).send(request, { label }));

    expect(requests).toHaveLength(1);
    expect(attempts).toHaveLength(1);
  });

  it('does not start a retry whose wait would end after the deadline', async () => {
    const { client, clock, requests } = clientWith([reply(429, '', { 'retry-after': '2' }), reply(200)]);

    const error = await rejectionOf(RetryableDeliveryError, client.send(request, { label, deadline: clock.now() + 1_000 }));

    expect(error.status).toBe(429);
    expect(requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries while the deadline allows and stops at the first wait that would cross it', async () => {
    const { client, clock, requests } = clientWith([reply(500)], { random: () => 0.999 });

    await rejectionOf(RetryableDeliveryError, client.send(request, { label, deadline: clock.now() + MIN_ATTEMPT_MS + 500 }));

    // A 199 ms wait still leaves MIN_ATTEMPT_MS for the attempt after it; 199 + 399 ms would not.
    expect(clock.sleeps).toEqual([199]);
    expect(requests).toHaveLength(2);
  });

  it('starts no attempt, and never calls fetch, when less than MIN_ATTEMPT_MS is left before the deadline', async () => {
    const { client, clock, requests, attempts } = clientWith([reply(200)]);

    const error = await rejectionOf(RetryableDeliveryError, client.send(request, { label, deadline: clock.now() + MIN_ATTEMPT_MS - 1 }));

    expect(error.message).toBe(`${label}: no time left before the deadline`);
    expect(error.status).toBeUndefined();
    expect(requests).toHaveLength(0);
    expect(attempts).toHaveLength(0);
    expect(clock.sleeps).toEqual([]);
  });

  it('starts no attempt when the deadline has already passed', async () => {
    const { client, clock, requests } = clientWith([reply(200)]);

    const error = await rejectionOf(RetryableDeliveryError, client.send(request, { label, deadline: clock.now() - 1 }));

    expect(error.message).toBe(`${label}: no time left before the deadline`);
    expect(requests).toHaveLength(0);
  });

  it('bounds every attempt, the first one included, by the time left before the deadline', async () => {
    const clock = new FakeClock();
    const { fetch, requests } = scriptedFetch(reply(500), reply(200));
    const timeouts: number[] = [];
    const client = new HttpClient({
      clock,
      fetch,
      random: () => 0.999,
      policy,
      timeoutSignal: (ms) => {
        timeouts.push(ms);
        return new AbortController().signal;
      },
    });

    await client.send(request, { label, deadline: clock.now() + 3_000 });

    // policy.timeoutMs is 5,000 ms: the first attempt gets the 3,000 left, the retry 3,000 - 199.
    expect(timeouts).toEqual([3_000, 2_801]);
    expect(requests).toHaveLength(2);
  });

  it('keeps the policy timeout when the deadline is further away, or absent', async () => {
    const clock = new FakeClock();
    const { fetch } = scriptedFetch(reply(200));
    const timeouts: number[] = [];
    const timeoutSignal = (ms: number) => {
      timeouts.push(ms);
      return new AbortController().signal;
    };
    const client = new HttpClient({ clock, fetch, policy, timeoutSignal });

    await client.send(request, { label, deadline: clock.now() + 60_000 });
    await client.send(request, { label });

    expect(timeouts).toEqual([policy.timeoutMs, policy.timeoutMs]);
  });

  it('lets a call override the policy, e.g. no in-process retry', async () => {
    const { client, requests } = clientWith([reply(503), reply(200)]);

    const error = await rejectionOf(RetryableDeliveryError, client.send(request, { label, policy: { retries: 0 } }));

    expect(error.status).toBe(503);
    expect(requests).toHaveLength(1);
  });

  it('reports each attempt once, with its number, status and duration', async () => {
    const { client, attempts } = clientWith([reply(500), networkFailure(), reply(200)]);

    await client.send(request, { label });

    expect(attempts).toHaveLength(3);
    expect(attempts.map((a) => a.attempt)).toEqual([0, 1, 2]);
    expect(attempts.map((a) => a.status)).toEqual([500, undefined, 200]);
    expect(attempts.every((a) => a.label === label && a.durationMs === 0)).toBe(true);
  });

  it('never puts the URL, or a credential in it, into attempt reports or errors', async () => {
    const secretUrl = 'https://collect.example.io/v2/stream/braze_users?key=SECRET';
    const { client, attempts } = clientWith([reply(500), networkFailure(`request to ${secretUrl} failed`)], { policy: { ...policy, retries: 1 } });

    const error = await rejectionOf(RetryableDeliveryError, client.send({ method: 'POST', url: secretUrl, body: '{}' }, { label: 'lytics collect' }));

    expect(attempts).toHaveLength(2);
    for (const info of attempts) {
      const logged = JSON.stringify(info);
      expect(logged).not.toContain('SECRET');
      expect(logged).not.toContain('collect.example.io');
    }
    expect(error.message).not.toContain('SECRET');
  });
});

describe('serverRequestedDelay', () => {
  const now = Date.UTC(2024, 0, 15, 12, 0, 0);

  it('reads Retry-After seconds', () => {
    expect(serverRequestedDelay(new Headers({ 'retry-after': '12' }), now)).toBe(12_000);
  });

  it('reads a Retry-After HTTP date relative to now', () => {
    expect(serverRequestedDelay(new Headers({ 'retry-after': 'Mon, 15 Jan 2024 12:01:00 GMT' }), now)).toBe(60_000);
  });

  it('never returns a negative delay for a date in the past', () => {
    expect(serverRequestedDelay(new Headers({ 'retry-after': 'Mon, 15 Jan 2024 11:00:00 GMT' }), now)).toBe(0);
  });

  it('reads X-RateLimit-Reset as epoch seconds', () => {
    expect(serverRequestedDelay(new Headers({ 'x-ratelimit-reset': String(now / 1000 + 5) }), now)).toBe(5_000);
  });

  it('prefers Retry-After over X-RateLimit-Reset', () => {
    const headers = new Headers({ 'retry-after': '1', 'x-ratelimit-reset': String(now / 1000 + 30) });

    expect(serverRequestedDelay(headers, now)).toBe(1_000);
  });

  it('falls back to X-RateLimit-Reset when Retry-After is unreadable', () => {
    const headers = new Headers({ 'retry-after': 'soon', 'x-ratelimit-reset': String(now / 1000 + 4) });

    expect(serverRequestedDelay(headers, now)).toBe(4_000);
  });

  it('is undefined when neither header is usable', () => {
    expect(serverRequestedDelay(new Headers(), now)).toBeUndefined();
    expect(serverRequestedDelay(new Headers({ 'x-ratelimit-reset': 'later' }), now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('draws below base * 2^attempt', () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, policy, () => 0.999))).toEqual([199, 399, 799, 1_598]);
  });

  it('is zero when the random draw is zero (full jitter)', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });

  it('never exceeds maxDelayMs however many attempts were made', () => {
    expect(backoffDelay(30, policy, () => 0.999)).toBe(Math.floor(0.999 * policy.maxDelayMs));
  });
});

describe('isRetryableStatus', () => {
  it.each([
    [408, true],
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [401, false],
    [404, false],
    [422, false],
  ])('classifies %i as retryable: %p', (status, retryable) => {
    expect(isRetryableStatus(status)).toBe(retryable);
  });
});

describe('classifyAnswer: what an answer means, in one place', () => {
  it.each([
    [200, true, 'delivered'],
    [201, true, 'delivered'],
    [207, true, 'delivered'],
    [302, true, 'config'],
    [401, true, 'config'],
    [403, true, 'config'],
    [404, true, 'config'],
    [404, false, 'refused'],
    [400, true, 'refused'],
    [422, true, 'refused'],
    [413, true, 'too-big'],
    [408, true, 'retryable'],
    [429, true, 'retryable'],
    [503, true, 'retryable'],
  ] as const)('classifies %i (fixed endpoint: %p) as %s', (status, fixed, expected) => {
    expect(classifyAnswer(status, fixed)).toBe(expected);
  });
});

describe('joinUrl', () => {
  it('keeps the base path', () => {
    expect(joinUrl('http://localhost:4010/braze', 'users/track')).toBe('http://localhost:4010/braze/users/track');
  });

  it('keeps the base path when the base ends with a slash and the path starts with one', () => {
    expect(joinUrl('http://localhost:4010/braze/', '/users/track')).toBe('http://localhost:4010/braze/users/track');
  });

  it('appends to a bare host', () => {
    expect(joinUrl('https://rest.iad-01.braze.com', 'users/track')).toBe('https://rest.iad-01.braze.com/users/track');
  });

  it('keeps a trailing slash of the path (SEEN wants /receivers/)', () => {
    expect(joinUrl('https://api.seen.io', 'v1/campaigns/onboarding/receivers/')).toBe('https://api.seen.io/v1/campaigns/onboarding/receivers/');
  });
});

describe('X-RateLimit-Reset outside a 429', () => {
  it('is not read as a retry time when the caller says the answer was no throttle', () => {
    const now = Date.parse('2024-01-15T12:00:00Z');

    expect(serverRequestedDelay(new Headers({ 'x-ratelimit-reset': String(now / 1000 + 5) }), now, false)).toBeUndefined();
  });
});
