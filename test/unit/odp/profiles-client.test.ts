/** The ODP profiles client: one paced call per batch, a refused call split down to the refused profile. */
import { DestinationConfigError } from '../../../functions/core/errors';
import { HttpClient } from '../../../functions/core/http';
import { createPacer } from '../../../functions/core/rate-limit';
import type { OdpProfile } from '../../../functions/odp/profile-map';
import { OdpProfilesClient } from '../../../functions/odp/profiles-client';
import { FakeClock, type RecordedRequest, rejectionOf, reply } from '../helpers';

const profile = (i: number): OdpProfile => ({ attributes: { email: `user${i}@example.com` } });
const profiles = (n: number) => Array.from({ length: n }, (_, i) => profile(i));
const emailsOf = (request: RecordedRequest) => (JSON.parse(request.body!) as OdpProfile[]).map((p) => p.attributes.email);

/** A client whose ODP answers each call with `answer(its profiles)`; the clock records when calls start. */
function clientAnswering(answer: (sent: OdpProfile[]) => Response, callsPerSecond = 10) {
  const clock = new FakeClock();
  const requests: RecordedRequest[] = [];
  const started: number[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    started.push(clock.now());
    requests.push({ url: String(input), method: init?.method, headers: Object.fromEntries(new Headers(init?.headers).entries()), body: init?.body as string });
    return answer(JSON.parse(init?.body as string) as OdpProfile[]);
  };
  let keyReads = 0;
  const client = new OdpProfilesClient({
    apiUrl: 'https://api.zaius.test',
    apiKey: async () => {
      keyReads++;
      return 'odp-key';
    },
    http: new HttpClient({ clock, fetch: fetchImpl, policy: { retries: 2, baseDelayMs: 1, maxDelayMs: 10, timeoutMs: 1_000 } }),
    pace: createPacer(callsPerSecond, clock),
  });
  return { client, requests, started, keyReads: () => keyReads };
}

const DEADLINE = Number.POSITIVE_INFINITY;

describe('OdpProfilesClient', () => {
  it('posts the profiles as one JSON array to /v3/profiles with the key in x-api-key, at the pacer rate', async () => {
    const odp = clientAnswering(() => reply(202, '{"title":"Accepted"}')());

    const results = [];
    for (let i = 0; i < 3; i++) results.push(await odp.client.send(profiles(2), { deadline: DEADLINE }));

    expect(results).toEqual([1, 2, 3].map(() => ({ requests: 1, rejected: 0 })));
    expect(odp.requests[0]).toMatchObject({ url: 'https://api.zaius.test/v3/profiles', method: 'POST', headers: { 'x-api-key': 'odp-key' } });
    expect(emailsOf(odp.requests[0]!)).toEqual(['user0@example.com', 'user1@example.com']);
    expect(odp.started.map((at) => at - odp.started[0]!)).toEqual([0, 100, 200]);
  });

  it('splits a call ODP refuses (400) down to the profile it refuses, counts it, and sends the rest', async () => {
    const odp = clientAnswering((sent) => reply(sent.some((p) => p.attributes.email === 'user5@example.com') ? 400 : 202)());
    const refused: (number | undefined)[] = [];

    const result = await odp.client.send(profiles(8), { deadline: DEADLINE, onRefused: (status) => refused.push(status) });

    expect(result).toEqual({ requests: 3, rejected: 1 });
    expect(refused).toEqual([400]);
    const accepted = odp.requests.filter((r) => !emailsOf(r).includes('user5@example.com')).flatMap(emailsOf);
    expect(accepted.sort()).toEqual(
      profiles(8)
        .map((p) => p.attributes.email)
        .filter((e) => e !== 'user5@example.com')
        .sort(),
    );
    expect(odp.keyReads()).toBe(1);
  });

  it('a 401 or 403 is a fault of the key (DestinationConfigError): thrown, never split nor counted as refused', async () => {
    for (const status of [401, 403]) {
      const odp = clientAnswering(() => reply(status)());
      const refused: unknown[] = [];
      const error = await rejectionOf(DestinationConfigError, odp.client.send(profiles(4), { deadline: DEADLINE, onRefused: (s) => refused.push(s) }));
      expect(error.status).toBe(status);
      expect(odp.requests).toHaveLength(1);
      expect(refused).toEqual([]);
    }
  });

  it('retries a 503 and counts the call once', async () => {
    let calls = 0;
    const odp = clientAnswering(() => reply(calls++ === 0 ? 503 : 202)());
    expect(await odp.client.send(profiles(3), { deadline: DEADLINE })).toEqual({ requests: 1, rejected: 0 });
    expect(odp.requests).toHaveLength(2);
  });

  it('sends nothing, and reads no key, for no profiles', async () => {
    const odp = clientAnswering(() => reply(202)());
    expect(await odp.client.send([], { deadline: DEADLINE })).toEqual({ requests: 0, rejected: 0 });
    expect(odp.requests).toEqual([]);
    expect(odp.keyReads()).toBe(0);
  });
});
