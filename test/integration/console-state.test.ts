import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually } from '../../bench/support/stub-server';
import type { ConsoleState } from '../../local/console';
import type { Runner } from '../../local/runner';
import { post, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const callback = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/seen/callback.json'), 'utf8')) as Record<string, unknown>;

/** The console's JSON (GET /_console/state), without a browser: test/browser/ drives the page itself. */
describe('GET /_console/state', () => {
  let runner: Runner;
  const state = async () => (await (await fetch(`${runner.url}/_console/state`)).json()) as ConsoleState;

  beforeAll(async () => {
    runner = await startTestRunner({ INBOUND_TOKEN: 'state-inbound', BRAZE_API_KEY: 'braze-key-kept-secret' }, { schedules: false });
  });
  afterAll(() => stopAll(() => runner?.stop()));

  it('counts accepted and rejected per flow and delivered per queue from the handlers’ metrics, and masks the last request’s key', async () => {
    expect((await post(runner, '/seen/callback', callback)).status).toBe(202);
    expect((await post(runner, '/seen/callback', { ...callback, customer_id: '' })).status).toBe(400);

    const seen = await eventually(
      async () => {
        const s = await state();
        const track = s.queues.find((q) => q.id === 'braze-track');
        // Delivered is counted when the call succeeds; the message is deleted just after.
        return track?.delivered === 1 && track.waiting === 0 ? s : undefined;
      },
      15_000,
      'braze-track delivered 1 and its message deleted',
    );

    expect(seen.flows.find((f) => f.id === 'seen-callback')).toMatchObject({ route: 'POST /seen/callback', queues: ['braze-track'], accepted: 1, rejected: 1 });
    expect(seen.queues.find((q) => q.id === 'braze-track')).toMatchObject({
      destination: 'braze',
      fedBy: expect.arrayContaining(['seen-callback']),
      waiting: 0,
      dlq: 0,
      parked: 0,
      redrive: { method: 'POST', path: '/_dlq/braze-track/redrive', command: 'npx bridge dlq redrive braze-track --local' },
    });
    const braze = seen.destinations.find((d) => d.id === 'braze');
    expect(braze).toMatchObject({ sandboxed: true, calls: [expect.objectContaining({ label: 'braze /users/track', status: 201 })] });
    expect(braze?.requests[0]).toMatchObject({ method: 'POST', path: '/users/track', headers: { authorization: 'Bearer ****' } });
    expect(braze?.requests[0]?.body).toContain('"braze_id": "101"');
    expect(JSON.stringify(seen)).not.toContain('braze-key-kept-secret');
    expect(JSON.stringify(seen)).not.toContain('state-inbound');
  });

  it('serves the page at /, its script and style beside it', async () => {
    const page = await fetch(`${runner.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/_console/console.js');
    for (const asset of ['/_console/console.js', '/_console/console.css']) expect((await fetch(`${runner.url}${asset}`)).status).toBe(200);
  });
});
