import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, type StubRequest, StubServer } from '../../bench/support/stub-server';
import { stopAll } from '../support/teardown';

const root = path.resolve(__dirname, '../..');
/** Every child a test started: killed after each test, so a failed assertion never leaves one running. */
const children = new Set<ChildProcess>();

afterEach(async () => {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(-child.pid!, 'SIGKILL'); // its own process group: tsx and the node it starts
        await exited;
      }
      children.delete(child);
    }),
  );
});

/** Starts `npm start`'s entry point as a user would, on a free port, and reads its first lines. */
function start(env: Record<string, string>): { child: ChildProcess; output: () => string; ready: Promise<string> } {
  const child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['local/start.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', DATA_DIR: ':memory:', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/localhost:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  return { child, output: () => output, ready };
}

describe('npm start', () => {
  it('refuses a setting it cannot read, naming it', async () => {
    const app = start({ SEEN_API_VERSION: '3' });

    await expect(app.ready).rejects.toThrow(/exited with 1[\s\S]*SEEN_API_VERSION/);
    expect(app.output()).not.toContain('    at ');
  });

  it('starts with a SEEN budget under one call per drain run (3 an hour, a run every 10 s): the runs share it', async () => {
    const app = start({ SEEN_MAX_CALLS_PER_HOUR: '3' });

    await expect(app.ready).resolves.toMatch(/^http:\/\/localhost:\d+$/);
  });

  it('serves the routes on the embedded default, records sandbox calls, and stops cleanly on Ctrl-C', async () => {
    const app = start({ INBOUND_TOKEN: 'start-token', SEEN_DRAIN_INTERVAL_SECONDS: '4' });
    const url = await app.ready;

    const accepted = await fetch(`${url}/seen/campaigns/onboarding/receivers`, {
      method: 'POST',
      headers: { authorization: 'Bearer start-token' },
      body: JSON.stringify([{ customer_id: 'c-1', first_name: 'Ada', email: 'ada@example.com' }]),
    });
    expect(accepted.status).toBe(202);
    const recorded = await eventually(
      async () => {
        const requests = (await (await fetch(`${url}/_sandbox/requests`)).json()) as { destination: string; path: string }[];
        return requests.length > 0 ? requests : undefined;
      },
      15_000,
      'a sandbox request',
    );
    expect(recorded).toEqual([expect.objectContaining({ destination: 'seen', path: '/v1/campaigns/onboarding/receivers/' })]);

    const exited = new Promise<number | null>((resolve) => app.child.once('exit', (code) => resolve(code)));
    app.child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(app.output()).toContain('POST /seen/campaigns/onboarding/receivers 202');
    expect(app.output()).not.toContain('ada@example.com');
  });
});

describe('npm start keeps what it accepted in DATA_DIR', () => {
  const braze = new StubServer(() => ({ status: 503, body: {} }));
  let brazeUrl: string;
  let dataDir = '';

  beforeAll(async () => {
    brazeUrl = await braze.start();
    dataDir = await mkdtemp(path.join(tmpdir(), 'bridge-data-'));
  });
  afterAll(() =>
    stopAll(
      () => braze.stop(),
      () => (dataDir ? rm(dataDir, { recursive: true, force: true }) : undefined),
    ),
  );

  it('delivers every record it answered 202 for after a SIGKILL mid-delivery and a restart, each status event once', async () => {
    const env = {
      DATA_DIR: dataDir,
      INBOUND_TOKEN: 'crash-token',
      BRAZE_REST_ENDPOINT: brazeUrl,
      BRAZE_API_KEY: 'braze-key',
    };
    const postJson = (url: string, route: string, body: unknown) =>
      fetch(`${url}${route}`, {
        method: 'POST',
        headers: { authorization: 'Bearer crash-token', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    // Braze is down: every record is accepted, queued, and its delivery keeps failing.
    const first = start(env);
    const firstUrl = await first.ready;
    const callbacks = Array.from({ length: 20 }, (_, i) => `braze-${i}`);
    const statuses = Array.from({ length: 10 }, (_, i) => ({ user_id: `user-${i}`, status: 'READ', notification_id: `n-${i}` }));
    for (const id of callbacks) {
      expect(
        (await postJson(firstUrl, '/seen/callback', { customer_id: id, campaign_slug: 'c', landing_page_url: 'https://x', email_thumbnail_url: 'https://y' }))
          .status,
      ).toBe(202);
    }
    expect((await postJson(firstUrl, '/sendbird/status', statuses)).status).toBe(202);
    await eventually(() => (braze.requests.length > 0 ? true : undefined), 15_000, 'a delivery attempt');

    const killed = new Promise((resolve) => first.child.once('exit', resolve));
    process.kill(-first.child.pid!, 'SIGKILL');
    await killed;

    // Braze is back; the same DATA_DIR.
    braze.requests.length = 0;
    braze.respond = () => ({ status: 201, body: { message: 'success' } });
    const second = start(env);
    const secondUrl = await second.ready;
    await eventually(() => (/waiting from an earlier run: .*braze-track \d+ queued/.test(second.output()) ? true : undefined), 10_000, 'the backlog line');

    // What the killed run held in flight (6 min of visibility for Braze's queue) goes at once.
    expect(second.output()).toMatch(/resumed: \d+ message\(s\) the previous run had received and not finished/);
    const attributes = () => braze.requests.flatMap((r: StubRequest) => (r.body as { attributes?: { braze_id: string }[] }).attributes ?? []);
    const events = () => braze.requests.flatMap((r: StubRequest) => (r.body as { events?: { external_id: string }[] }).events ?? []);
    // Within seconds (30 s at most), not after the visibility timeout.
    await eventually(() => (new Set(attributes().map((a) => a.braze_id)).size >= 20 && events().length >= 10 ? true : undefined), 30_000, 'every record');
    // A queue holds each message until Braze has taken it: with every queue empty, nothing more can come.
    await eventually(
      async () => {
        const { queues } = (await (await fetch(`${secondUrl}/_dlq?max=0`)).json()) as { queues: { waiting: number }[] };
        return queues.every((q) => q.waiting === 0) ? true : undefined;
      },
      15_000,
      'every queue drained',
    );

    expect(new Set(attributes().map((a) => a.braze_id))).toEqual(new Set(callbacks));
    expect(
      events()
        .map((e) => e.external_id)
        .sort(),
    ).toEqual(statuses.map((s) => s.user_id).sort());

    const exited = new Promise<number | null>((resolve) => second.child.once('exit', (code) => resolve(code)));
    second.child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});

describe('npm start is one process per DATA_DIR', () => {
  let dataDir = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'bridge-lock-'));
  });
  afterAll(() => stopAll(() => (dataDir ? rm(dataDir, { recursive: true, force: true }) : undefined)));

  it('refuses a second run on the same folder at once, in one line naming it and the first run’s pid, while the first keeps serving', async () => {
    const first = start({ DATA_DIR: dataDir, INBOUND_TOKEN: 'lock-token' });
    const firstUrl = await first.ready;

    const second = start({ DATA_DIR: dataDir, INBOUND_TOKEN: 'lock-token' });
    const refused = second.ready.then(
      () => 'came up',
      (error: Error) => error.message,
    );
    const code = await new Promise<number | null>((resolve) => second.child.once('exit', (exitCode) => resolve(exitCode)));

    expect(code).toBe(1);
    expect(await refused).toMatch(/exited with 1/);
    const said = second.output().trim();
    const pid = Number(/\(pid (\d+)\)/.exec(said)?.[1]);
    expect(said).toBe(
      `braze-partner-bridge: DATA_DIR ${dataDir} is in use by another npm start (pid ${pid}); ` +
        'stop that one first, or give this one another DATA_DIR (DATA_DIR=:memory: keeps nothing)',
    );
    expect((await fetch(`${firstUrl}/_health`)).status).toBe(200);
    // The pid named is the first run's: it ends with the first run's process group.
    expect(() => process.kill(pid, 0)).not.toThrow();
    const killed = new Promise((resolve) => first.child.once('exit', resolve));
    process.kill(-first.child.pid!, 'SIGKILL');
    await killed;
    await eventually(
      () => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      },
      10_000,
      'the named process to end',
    );
  });
});
