import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { TransformResult } from '../../cli/transform';
import { bridge } from './support';

const fixture = (partner: string, name: string) => path.join(__dirname, '../fixtures', partner, name);

/**
 * `bridge transform`, in-process: each run starts its own in-memory runner with every destination
 * sandboxed, posts the sample to the flow's route and reports what the sandbox received. The
 * runs are independent, so they go concurrently (each stops its runner before it resolves).
 */
describe('bridge transform', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-transform-'));
  const sample = (name: string, body: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
    return file;
  };
  // The user's real destinations and credentials must not be read by a dry run.
  const env = {
    BRAZE_REST_ENDPOINT: 'https://rest.invalid',
    BRAZE_API_KEY: 'real-braze-key',
    SEEN_API_URL: 'https://seen.invalid',
    SEEN_API_TOKEN: 'real-seen-token',
    INBOUND_TOKEN: 'not-used',
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints, per partner, the downstream requests a sample becomes, with the body and masked credentials', async () => {
    const movableInk = sample('mi.json', {
      events: [{ external_id: 'user-1', name: 'Product Viewed', time: new Date().toISOString(), properties: { price: 1.99 } }],
    });
    // Braze's Email Open and Custom Event examples (custom Currents connector page), each with an id of its own (the page's examples share one).
    const page = (JSON.parse(readFileSync(fixture('odp', 'currents-connector-page.json'), 'utf8')) as { events: Record<string, unknown>[] }).events;
    const currents = sample('currents.json', { events: [page[2], page[8]].map((event, i) => ({ ...event, id: `page-example-${i}` })) });
    const sendbird = sample('sb.json', { template_key: 'order_shipped', mode: 'realtime', recipient: 'user-7', variables: { order_id: 'A1' }, id: 'd1-u7' });
    const runs = await Promise.all([
      bridge(['transform', 'seen-callback', fixture('seen', 'callback.json'), '--json'], { env }),
      bridge(['transform', 'seen-receivers', fixture('seen', 'receivers.json'), '--param', 'campaign_slug=onboarding', '--json'], { env }),
      bridge(['transform', 'movable-ink-events', movableInk, '--json'], { env }),
      bridge(['transform', 'sendbird-notifications', sendbird, '--json'], { env }),
      bridge(['transform', 'lytics-users', fixture('lytics', 'profile.json'), '--json'], { env }),
      bridge(['transform', 'odp-currents', currents, '--json'], { env }),
    ]);
    for (const run of runs) expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
    const [seenCallback, seenReceivers, mi, sb, lytics, odp] = runs.map((run) => run.json<TransformResult>());

    expect(seenCallback).toMatchObject({
      flow: 'seen-callback',
      route: 'POST /seen/callback',
      status: 202,
      answer: { accepted: 1 },
      parked: [],
      unfinished: [],
    });
    expect(seenCallback?.requests).toEqual([
      {
        destination: 'braze',
        method: 'POST',
        url: '{BRAZE_REST_ENDPOINT}/users/track',
        headers: expect.objectContaining({ authorization: 'Bearer ****', 'content-type': 'application/json' }),
        body: {
          attributes: [
            {
              braze_id: '101',
              _update_existing_only: true,
              landing_page_url: 'your.subdomain.com/v/12345',
              email_thumbnail_url: expect.stringContaining('email_thumbnail.jpg'),
            },
          ],
        },
      },
    ]);

    // A scheduled drain (SEEN) runs as its schedule would; the path parameter reaches the URL.
    expect(seenReceivers?.requests).toHaveLength(1);
    expect(seenReceivers?.requests[0]).toMatchObject({
      method: 'POST',
      url: '{SEEN_API_URL}/v1/campaigns/onboarding/receivers/',
      headers: { authorization: 'Token ****' },
    });
    expect((seenReceivers!.requests[0]!.body as { email: string }[]).map((r) => r.email)).toEqual([
      'ada.lovelace@example.com',
      'grace.hopper@example.org',
      'alan@example.net',
    ]);

    expect(mi?.requests).toEqual([
      {
        destination: 'movable-ink',
        method: 'POST',
        url: '{MOVABLE_INK_API_URL}',
        headers: expect.objectContaining({ authorization: 'Basic ****' }),
        body: { type: 'track', event: 'product_viewed', user_id: 'user-1', timestamp: expect.any(Number), timezone: 'UTC', properties: { price: 1.99 } },
      },
    ]);

    expect(sb?.requests).toEqual([
      expect.objectContaining({
        url: '{SENDBIRD_API_URL}/v1/notifications',
        headers: expect.objectContaining({ 'api-token': '****' }),
        body: { mode: 'realtime', template: { key: 'order_shipped', variables: { order_id: 'A1' } }, targets: ['user-7'] },
      }),
    ]);

    expect(lytics?.requests).toEqual([
      expect.objectContaining({
        url: '{LYTICS_API_URL}/collect/json/braze_users',
        headers: expect.objectContaining({ authorization: '****' }),
        body: [expect.objectContaining({ braze_id: 'xxxxxx', email: 'john.smith@email.com' })],
      }),
    ]);

    // No ODP_EXTERNAL_ID_IDENTIFIER: the custom event, which has no email, is not sent (skipped).
    expect(odp?.answer).toEqual({ accepted: 1, skipped: 1 });
    expect(odp?.requests).toHaveLength(1);
    expect(odp?.requests[0]).toMatchObject({ url: '{ODP_API_URL}/v3/events', headers: { 'x-api-key': '****' } });
    expect(odp?.requests[0]?.body).toEqual([
      expect.objectContaining({ type: 'email', action: 'open', identifiers: { email: 'test@test.com' }, data: expect.objectContaining({ ts: 1477502783 }) }),
    ]);

    // Nothing anywhere carries a credential: neither the user's nor the sandbox's stand-ins.
    const printed = runs.map((run) => run.out).join('\n');
    expect(printed).not.toMatch(/real-braze-key|real-seen-token|sandbox-/);
  });

  it("prints the route's 400 answer, naming each failing field, and exits 1", async () => {
    const bad = sample('bad.json', { campaign_slug: 'onboarding', landing_page_url: 'x', email_thumbnail_url: 'y' });

    const run = await bridge(['transform', 'seen-callback', bad], { env });

    expect(run.code).toBe(1);
    const [status, ...answer] = run.out.trim().split('\n');
    expect(status).toBe('POST /seen/callback -> 400');
    const body = JSON.parse(answer.join('\n')) as { error: string; issues: { path: string }[] };
    expect(body.issues).toEqual([expect.objectContaining({ path: 'customer_id' })]);
  });

  it('reads the sample from standard input with -, and prints readable text without --json', async () => {
    const run = await bridge(['transform', 'seen-receivers', '-'], {
      env,
      stdin: Readable.from([JSON.stringify([{ customer_id: 'c-1', first_name: 'Ada', email: 'a@example.com' }])]),
    });

    expect(run.code).toBe(0);
    expect(run.out).toContain('POST /seen/campaigns/campaign_slug/receivers -> 202 {"accepted":1}');
    expect(run.out).toContain('note: path parameter campaign_slug not given');
    expect(run.out).toContain('POST {SEEN_API_URL}/v1/campaigns/campaign_slug/receivers/\n');
    expect(run.out).toContain('authorization: Token ****');
  });

  it('names the flows when the flow is unknown (exit 2)', async () => {
    const run = await bridge(['transform', 'no-such-flow', '-']);

    expect(run.code).toBe(2);
    expect(run.err).toMatch(/no flow no-such-flow in the catalogue \(flows: seen-callback, /);
  });
});
