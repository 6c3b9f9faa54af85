import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

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
    env: { ...process.env, PORT: '0', ...env },
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
  it('refuses a setting that leaves the SEEN drain no call to make, naming it', async () => {
    const app = start({ SEEN_MAX_CALLS_PER_HOUR: '10' });

    await expect(app.ready).rejects.toThrow(/exited with 1[\s\S]*SEEN_MAX_CALLS_PER_HOUR/);
    expect(app.output()).not.toContain('    at ');
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
    let recorded: { destination: string; path: string }[] = [];
    for (let i = 0; i < 150 && recorded.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      recorded = (await (await fetch(`${url}/_sandbox/requests`)).json()) as typeof recorded;
    }
    expect(recorded).toEqual([expect.objectContaining({ destination: 'seen', path: '/v1/campaigns/onboarding/receivers/' })]);

    const exited = new Promise<number | null>((resolve) => app.child.once('exit', (code) => resolve(code)));
    app.child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(app.output()).toContain('POST /seen/campaigns/onboarding/receivers 202');
    expect(app.output()).not.toContain('ada@example.com');
  });
});
