/**
 * The local console (`npm start`'s page at /) in a real browser: playwright-core driving the
 * machine's Chromium against a runner started in-process. Skipped, saying so, where no Chromium is
 * installed (CHROMIUM_PATH, default /usr/bin/chromium).
 *
 * `CONSOLE_SCREENSHOT=docs/console.png npx jest test/browser` also saves the page as docs/local.md shows it.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
if (!hasChromium) {
  console.warn(`test/browser/console.test.ts SKIPPED: no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`);
}
const describeInBrowser = hasChromium ? describe : describe.skip;

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures', name), 'utf8')) as unknown;
/** Credentials the runner holds: none may ever reach the page. */
const secrets = { INBOUND_TOKEN: 'console-inbound-token', BRAZE_API_KEY: 'braze-key-never-shown', LYTICS_API_TOKEN: 'lytics-token-never-shown' };
const WAIT_MS = 10_000;

/** GET with a Host header of our choosing (fetch sets its own). */
function statusWithHost(url: string, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}

describeInBrowser('the local console, in Chromium', () => {
  // Lytics is real HTTP (this stub) and refuses at first, so its record is parked; Braze and SEEN are sandboxed.
  const lytics = new StubServer(() => ({ status: 400, body: { message: 'bad stream' } }));
  let runner: Runner;
  let browser: Browser;
  let page: Page;

  /** Waits, as the page polls, until a row's count cell shows `value`; says what it showed instead. */
  const shows = async (row: string, field: string, value: number) => {
    const cell = page.locator(`${row} td[data-field="${field}"]`);
    try {
      await page.locator(`${row} td[data-field="${field}"][data-value="${value}"]`).waitFor({ timeout: WAIT_MS });
    } catch {
      throw new Error(`${row} ${field}: expected ${value}, the page shows ${await cell.getAttribute('data-value', { timeout: 1_000 }).catch(() => 'nothing')}`);
    }
  };

  /** `CONSOLE_SCREENSHOT=docs/console.png`: the page as it stands, for docs/local.md (kept under 300 KB). */
  const screenshotIfAsked = async () => {
    const target = process.env.CONSOLE_SCREENSHOT;
    if (!target) return;
    const file = path.resolve(target);
    mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeLessThan(300 * 1024);
  };

  beforeAll(async () => {
    runner = await startTestRunner(
      { ...secrets, LYTICS_API_URL: await lytics.start() },
      { consumerOverrides: { maxBatchingWindowSeconds: 0 }, schedules: false },
    );
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      // As root Chromium needs --no-sandbox; the rest keep it off the network and quiet.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(`${runner.url}/`);
  });
  afterAll(() =>
    stopAll(
      () => browser?.close(),
      () => runner?.stop(),
      () => lytics.stop(),
    ),
  );

  it('serves the page at / and /_console, and its state only to a loopback host', async () => {
    await page.locator('#status.live').waitFor({ timeout: WAIT_MS });
    expect(await page.title()).toContain('local console');
    const again = await fetch(`${runner.url}/_console`);
    expect(again.status).toBe(200);
    expect(again.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await fetch(`${runner.url}/_console/state`)).headers.get('content-type')).toBe('application/json');
    // Reached under another name (a tunnel, a DNS-rebinding page): nothing.
    expect(await statusWithHost(`${runner.url}/_console/state`, 'bridge.example.com')).toBe(403);
    expect(await statusWithHost(`${runner.url}/_console/state`, `localhost:${runner.port}`)).toBe(200);
  });

  it('counts what a flow accepted and rejected, and what its queue delivered', async () => {
    expect((await post(runner, '/seen/callback', fixture('seen/callback.json'))).status).toBe(202);
    expect((await post(runner, '/seen/callback', { campaign_slug: 'onboarding' })).status).toBe(400);

    await shows('tr[data-flow="seen-callback"]', 'accepted', 1);
    await shows('tr[data-flow="seen-callback"]', 'rejected', 1);
    await shows('tr[data-queue="braze-track"]', 'delivered', 1);
  });

  it('shows the last Braze request with its key masked, its body collapsed', async () => {
    const request = page.locator('[data-destination="braze"] li[data-request="/users/track"]').first();
    await request.waitFor({ timeout: WAIT_MS });
    expect(await request.locator('[data-header="authorization"]').textContent()).toBe('Bearer ****');
    const body = request.locator('details pre');
    expect(await body.isVisible()).toBe(false);
    await request.locator('details summary').click();
    await body.waitFor({ state: 'visible', timeout: WAIT_MS });
    expect(await body.textContent()).toContain('"landing_page_url"');
    const status = page.locator('[data-destination="braze"] tr[data-call="braze /users/track"] [data-field="status"]').first();
    expect(await status.textContent()).toBe('201');
  });

  it('shows what waits in a queue until its drain runs', async () => {
    expect((await post(runner, '/seen/campaigns/onboarding/receivers', fixture('seen/receivers.json'))).status).toBe(202);
    const waiting = await queueDepth(runner, 'seen-receivers');
    expect(waiting).toBeGreaterThan(0);
    await shows('tr[data-flow="seen-receivers"]', 'accepted', 3);
    await shows('tr[data-queue="seen-receivers"]', 'waiting', waiting);

    await runner.drainNow('seen-receivers');
    await shows('tr[data-queue="seen-receivers"]', 'waiting', 0);
    await shows('tr[data-queue="seen-receivers"]', 'delivered', 3);
    expect(await page.locator('[data-destination="seen"] [data-header="authorization"]').first().textContent()).toBe('Token ****');
  });

  it('shows a refused record in the DLQ, with a redrive button and the CLI command', async () => {
    expect((await post(runner, '/lytics/users', fixture('lytics/profile.json'))).status).toBe(202);
    await shows('tr[data-queue="lytics-users"]', 'parked', 1);
    await shows('tr[data-queue="lytics-users"]', 'dlq', 1);
    expect(await page.locator('tr[data-queue="lytics-users"] td.redrive .hint code').textContent()).toBe('npx bridge dlq redrive lytics-users --local');
    // Lytics is a real destination here: its calls show label and status, never the URL or a header.
    expect(await page.locator('[data-destination="lytics"] tr[data-call="lytics collect"] [data-field="status"]').first().textContent()).toBe('400');
    expect(await page.locator('[data-destination="lytics"] li[data-request]').count()).toBe(0);
    await screenshotIfAsked();
  });

  it('names the CLI command when the runner does not serve the redrive endpoint', async () => {
    // As a run without the DLQ admin routes answers (the runner's own 404).
    await page.route('**/_dlq/*/redrive', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"message":"Not Found"}' }));
    try {
      await page.locator('button[data-redrive="lytics-users"]').click();
      const note = page.locator('[data-redrive-note="lytics-users"]');
      await note.waitFor();
      expect(await note.textContent()).toContain('answered 404');
      expect(await note.locator('code').textContent()).toBe('npx bridge dlq redrive lytics-users --local');
      await shows('tr[data-queue="lytics-users"]', 'dlq', 1);
    } finally {
      await page.unrouteAll();
    }
  });

  it('redrives the DLQ with its button once the destination takes the record', async () => {
    const served = (await fetch(`${runner.url}/_dlq`)).status !== 404; // the DLQ admin routes (local/dlq-admin.ts)
    if (!served) {
      console.warn('console redrive not checked end to end: this runner does not serve POST /_dlq/<queue>/redrive');
      return;
    }
    lytics.respond = () => ({ status: 200, body: { status: 200, message: 'success' } });
    await page.locator('button[data-redrive="lytics-users"]').click();
    await page.locator('[data-redrive-note="lytics-users"].note-ok', { hasText: 'Moved 1 message back to lytics-users' }).waitFor();
    await shows('tr[data-queue="lytics-users"]', 'dlq', 0);
    await shows('tr[data-queue="lytics-users"]', 'delivered', 1);
  });

  it('never shows a credential', async () => {
    const state = await (await fetch(`${runner.url}/_console/state`)).text();
    const html = await page.content();
    for (const value of Object.values(secrets)) {
      expect(state).not.toContain(value);
      expect(html).not.toContain(value);
    }
    expect(state).not.toContain('127.0.0.1'); // destination URLs neither (a real one may hold a key)
  });
});
