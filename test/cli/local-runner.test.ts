import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';
import { bridge } from './support';

interface PeekAnswer {
  queue: string;
  parked: number;
  waiting: number;
  reasons: Record<string, number>;
  messages: { messageId: string; reason: string; body?: string }[];
}

/**
 * `bridge send` and `bridge dlq ... --local` against a running local runner (npm start's code):
 * Movable Ink answers 422 (an unmapped event), so the consumer parks the event in the DLQ with
 * parked_reason movable-ink_422; once Movable Ink accepts it, a redrive delivers it.
 */
describe('bridge send and bridge dlq --local, against a running runner', () => {
  const movableInk = new StubServer(() => ({ status: 422, body: { error: 'unmapped event' } }));
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-cli-'));
  let runner: Runner;
  let events: string;

  beforeAll(async () => {
    runner = await startTestRunner(
      {
        INBOUND_TOKEN: 'cli-inbound',
        MOVABLE_INK_API_URL: `${await movableInk.start()}/behavioral/key-1`,
        MOVABLE_INK_API_USERNAME: 'u',
        MOVABLE_INK_API_PASSWORD: 'p',
      },
      { consumerOverrides: { maxBatchingWindowSeconds: 0.2 } },
    );
    events = path.join(dir, 'events.json');
    writeFileSync(
      events,
      JSON.stringify({
        events: [
          { id: 'evt-1', external_id: 'user-1', name: 'Unmapped Thing', time: new Date().toISOString(), email: 'ada@example.com' },
          { id: 'evt-2', external_id: 'user-2', name: 'Unmapped Thing', time: new Date().toISOString() },
        ],
      }),
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => movableInk.stop(),
      () => rmSync(dir, { recursive: true, force: true }),
    ),
  );

  it("sends a sample on the flow's route with the token and prints the 202", async () => {
    const run = await bridge(['send', 'movable-ink-events', events, '--url', runner.url, '--token', 'cli-inbound', '--json']);

    expect(run.code).toBe(0);
    expect(run.json()).toEqual({ flow: 'movable-ink-events', url: `${runner.url}/movable-ink/events`, auth: 'bearer', status: 202, answer: { accepted: 2 } });
    // Both events were refused by Movable Ink and parked.
    await eventually(async () => ((await runner.depth('movable-ink', 'dlq')) === 2 ? true : undefined), 15_000, 'two parked events');
  });

  it("takes the token from INBOUND_TOKEN, and exits 1 on the route's 401 with a wrong one", async () => {
    const wrong = await bridge(['send', 'movable-ink-events', events, '--url', runner.url], { env: { INBOUND_TOKEN: 'wrong' } });
    const none = await bridge(['send', 'movable-ink-events', events, '--url', runner.url]);

    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/^POST .*\/movable-ink\/events -> 401/);
    expect(none.code).toBe(2);
    expect(none.err).toContain('no inbound token');
  });

  it('lists every queue with its DLQ depth and parked reasons', async () => {
    const run = await bridge(['dlq', 'list', '--local', runner.url, '--json']);

    expect(run.code).toBe(0);
    const queues = run.json<{ queues: { queue: string; parked: number; reasons: Record<string, number> }[] }>().queues;
    expect(queues.map((q) => q.queue)).toEqual([...runner.queues.keys()]);
    expect(queues.find((q) => q.queue === 'movable-ink')).toMatchObject({ parked: 2, reasons: { 'movable-ink_422': 2 } });
  });

  it('peeks at the parked messages: reasons counted, bodies hidden unless --show-bodies, nothing removed', async () => {
    const hidden = await bridge(['dlq', 'peek', 'movable-ink', '--local', runner.url, '--json']);
    const text = await bridge(['dlq', 'peek', 'movable-ink', '--local', runner.url]);
    const shown = await bridge(['dlq', 'peek', 'movable-ink', '--local', runner.url, '--show-bodies', '--max', '1', '--json']);

    expect(hidden.code).toBe(0);
    const peek = hidden.json<PeekAnswer>();
    expect(peek).toMatchObject({ queue: 'movable-ink', parked: 2, waiting: 0, reasons: { 'movable-ink_422': 2 } });
    expect(peek.messages).toHaveLength(2);
    for (const message of peek.messages) expect(message).not.toHaveProperty('body');
    expect(hidden.out).not.toContain('user-1');
    expect(text.out).toContain('2  movable-ink_422');
    expect(text.out).toContain('bodies not shown (they hold user data)');
    expect(text.out).not.toContain('user-1');

    const one = shown.json<PeekAnswer>();
    expect(one.messages).toHaveLength(1);
    expect(one.messages[0]?.body).toMatch(/user-[12]/);
    expect(await runner.depth('movable-ink', 'dlq')).toBe(2);
  });

  it('redrives the DLQ into its queue, and the events reach Movable Ink once it accepts them', async () => {
    movableInk.requests.length = 0;
    movableInk.respond = () => ({ status: 200, body: {} });

    const run = await bridge(['dlq', 'redrive', 'movable-ink', '--local', runner.url]);

    expect(run.code).toBe(0);
    expect(run.out).toBe('movable-ink: moved 2 messages from its DLQ back to the queue\n');
    await movableInk.waitForRequests(2, 15_000);
    await eventually(async () => ((await runner.depth('movable-ink')) === 0 ? true : undefined), 15_000, 'queue drained');
    expect(await runner.depth('movable-ink', 'dlq')).toBe(0);
    expect(movableInk.requests.map((r) => (r.body as { user_id: string }).user_id).sort()).toEqual(['user-1', 'user-2']);
  });

  it('refuses an unknown queue (exit 2) and a redrive posted from another origin (403)', async () => {
    const unknown = await bridge(['dlq', 'peek', 'no-such-queue', '--local', runner.url]);
    const crossSite = await fetch(`${runner.url}/_dlq/movable-ink/redrive`, { method: 'POST', headers: { origin: 'https://elsewhere.example' } });

    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no queue no-such-queue in the catalogue');
    expect(crossSite.status).toBe(403);
  });
});
