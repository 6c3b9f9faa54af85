import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '../..');

/** The installed entry point (package.json "bin": bridge -> bin/bridge.mjs) runs the CLI in its own process. */
describe('bin/bridge.mjs', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it("lists the flows of the catalogue with the project's Node and exits 0", async () => {
    // npx runs it with node_modules/.bin first on PATH, so `#!/usr/bin/env node` finds the project's Node 24.
    child = spawn(path.join(root, 'node_modules/.bin/node'), [path.join(root, 'bin/bridge.mjs'), 'flows', '--json'], {
      cwd: root,
      env: { ...process.env, PATH: `${path.join(root, 'node_modules/.bin')}${path.delimiter}${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child!.on('close', resolve));

    expect({ code, err }).toEqual({ code: 0, err: '' });
    const listed = JSON.parse(out) as { flows: { id: string; route: string; auth: string[] }[]; jobs: { command: string }[] };
    expect(listed.flows).toContainEqual(
      expect.objectContaining({ id: 'seen-receivers', route: 'POST /seen/campaigns/{campaign_slug}/receivers', auth: ['bearer'] }),
    );
    expect(listed.jobs.map((job) => job.command)).toContain('bridge sync odp-segment-sync');
  });
});
