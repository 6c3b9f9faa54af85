import { eventually, type StubRequest, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const DATA_PATH = '/v1/projects/p-onboarding/data';

/**
 * SEEN API 2.0 as docs.seen.io documents it: Create Data takes one JSON object with a string id
 * (201 Created) and refuses an array; the OAuth2 token endpoint takes form-encoded client
 * credentials (the answer as RFC 6749 shapes it).
 */
function seen2(): StubServer {
  return new StubServer((request) => {
    if (request.path === '/oauth2/token') return { status: 200, body: { access_token: 'issued-token', token_type: 'Bearer', expires_in: 3600 } };
    if (request.path !== DATA_PATH) return { status: 404, body: { message: 'not found' } };
    if (Array.isArray(request.body)) return { status: 400, body: { message: 'SEEN API accepts single JSON objects only. Arrays are not supported' } };
    const id = (request.body as { id?: unknown }).id;
    return typeof id === 'string' ? { status: 201, body: { id } } : { status: 400, body: { message: 'id must be a string' } };
  });
}

/** The settings of a SEEN 2.0 deployment whose one project (`onboarding`) lives on `url`. */
const version2 = (url: string) => ({
  INBOUND_TOKEN: 'seen-inbound',
  SEEN_API_VERSION: '2',
  SEEN_API_URL: url,
  SEEN_PROJECTS: JSON.stringify({ onboarding: `${url}${DATA_PATH}` }),
  SEEN_API_TOKEN: 'seen-api-token',
});

const dataRequests = (stub: StubServer) => stub.requests.filter((request) => request.path === DATA_PATH);
const bodies = (requests: StubRequest[]) => requests.map((request) => request.body as Record<string, unknown>);

describe('Braze webhook receivers to SEEN API 2.0, through the local runner', () => {
  const seen = seen2();
  let runner: Runner;

  beforeAll(async () => {
    const url = await seen.start();
    runner = await startTestRunner({
      ...version2(url),
    });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => seen?.stop(),
    ),
  );
  beforeEach(() => {
    seen.requests.length = 0;
  });

  it('takes one object or an array, and posts each receiver on its own with id as a string and the API token as Bearer', async () => {
    expect(await post(runner, '/seen/campaigns/onboarding/receivers', { id: 101, first_name: 'Ada', country: 'Norway' })).toEqual({
      status: 202,
      body: { accepted: 1 },
    });
    expect(
      await post(runner, '/seen/campaigns/onboarding/receivers', [
        { id: 'b-2', first_name: 'Grace' },
        { customer_id: 3, first_name: 'Alan' },
      ]),
    ).toEqual({
      status: 202,
      body: { accepted: 2 },
    });

    await seen.waitForRequests(3);
    expect(bodies(dataRequests(seen)).sort((a, b) => String(a.id).localeCompare(String(b.id)))).toEqual([
      { id: '101', first_name: 'Ada', country: 'Norway' },
      { id: '3', first_name: 'Alan' },
      { id: 'b-2', first_name: 'Grace' },
    ]);
    for (const request of dataRequests(seen)) expect(request.headers.authorization).toBe('Bearer seen-api-token');
    await eventually(async () => ((await queueDepth(runner, 'seen-data')) === 0 ? true : undefined), 5_000, 'seen-data drained');
    expect(await queueDepth(runner, 'seen-data', 'dlq')).toBe(0);
  });

  it('refuses a campaign with no project in SEEN_PROJECTS at the door, naming campaign_slug, and queues nothing', async () => {
    const response = await post(runner, '/seen/campaigns/winback/receivers', { id: '1' });

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([expect.objectContaining({ path: 'campaign_slug' })]);
    expect(await queueDepth(runner, 'seen-data')).toBe(0);
    expect(await queueDepth(runner, 'seen-receivers')).toBe(0);
  });

  it('refuses a receiver with neither id nor customer_id by its index', async () => {
    const response = await post(runner, '/seen/campaigns/onboarding/receivers', [{ id: 'ok' }, { first_name: 'nobody' }]);

    expect(response).toEqual({ status: 202, body: { accepted: 1, rejected: [{ index: 1, issues: [expect.objectContaining({ path: '[1].id' })] }] } });
    await seen.waitForRequests(1);
    expect(bodies(dataRequests(seen))).toEqual([{ id: 'ok' }]);
  });
});

describe('SEEN API 2.0 with OAuth2 client credentials, through the local runner', () => {
  const seen = seen2();
  let runner: Runner;

  beforeAll(async () => {
    const url = await seen.start();
    runner = await startTestRunner({
      ...version2(url),
      SEEN_OAUTH_CLIENT_ID: 'client-1',
      SEEN_OAUTH_CLIENT_SECRET: 'client-secret-shh',
    });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => seen?.stop(),
    ),
  );

  it("asks the data URL's origin /oauth2/token for one token and sends every receiver with it", async () => {
    await Promise.all(Array.from({ length: 5 }, (_, i) => post(runner, '/seen/campaigns/onboarding/receivers', { id: `u${i}` })));

    await eventually(() => (dataRequests(seen).length >= 5 ? true : undefined), 15_000, '5 data items');
    const tokenRequests = seen.requests.filter((request) => request.path === '/oauth2/token');
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(String(tokenRequests[0]?.body)))).toMatchObject({ grant_type: 'client_credentials', client_id: 'client-1' });
    for (const request of dataRequests(seen)) expect(request.headers.authorization).toBe('Bearer issued-token');
  });
});

describe("SEEN API 2.0 in npm start's sandbox (no account)", () => {
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner({
      INBOUND_TOKEN: 'seen-inbound',
      SEEN_API_VERSION: '2',
      SEEN_OAUTH_CLIENT_ID: 'try-client',
      SEEN_OAUTH_CLIENT_SECRET: 'try-secret-value',
    });
  });
  afterAll(() => stopAll(() => runner?.stop()));

  it('posts each receiver to the sandbox project of its campaign after an OAuth2 token, answered 201, keeping no client secret', async () => {
    expect((await post(runner, '/seen/campaigns/onboarding/receivers', [{ id: 'a' }, { id: 'b' }])).status).toBe(202);

    const recorded = await eventually(
      () => {
        const data = runner.sandbox.requests.filter((request) => request.path === '/v1/projects/onboarding/data');
        return data.length >= 2 ? runner.sandbox.requests.filter((request) => request.destination === 'seen') : undefined;
      },
      15_000,
      'sandbox data items',
    );
    expect(recorded.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /oauth2/token',
      'POST /v1/projects/onboarding/data',
      'POST /v1/projects/onboarding/data',
    ]);
    expect(recorded.find((request) => request.path === '/oauth2/token')?.body).toEqual({
      grant_type: 'client_credentials',
      client_id: 'try-client',
      client_secret: '****',
    });
    const listed = await (await fetch(`${runner.url}/_sandbox/requests`)).text();
    expect(listed).not.toContain('try-secret-value');
    expect(await queueDepth(runner, 'seen-data', 'dlq')).toBe(0);
  });
});
