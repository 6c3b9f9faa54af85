/**
 * The generated tables of docs/ (routes, variables, URLs to paste) are what `npm run docs` writes
 * from the catalogue and the settings schemas, as openapi.json is what `npm run openapi` writes.
 * Nothing here is timed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED_BLOCKS, generatedFiles, PROJECT_ROOT, replaceBlock, settingComments } from '../../local/docs-tables';

describe('the generated tables of docs/', () => {
  const files = generatedFiles();

  it.each([...files.keys()])('%s matches what npm run docs writes (run it after changing the catalogue or a setting)', (file) => {
    expect(readFileSync(path.join(PROJECT_ROOT, file), 'utf8')).toBe(files.get(file));
  });

  it('lists every route, every setting and every URL', () => {
    const text = [...files.values()].join('\n');
    expect(GENERATED_BLOCKS.map((block) => block.name)).toEqual(['routes', 'variables', 'urls']);
    for (const name of [
      'POST /seen/callback',
      'BRAZE_MAX_OBJECTS_PER_REQUEST',
      '`<base>/lytics/audiences?token=<lytics inbound_token>`',
      'SENDBIRD_API_TOKEN',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('replaces only what lies between the markers, and names a file without them', () => {
    const text = 'before\n<!-- begin generated: x -->\nold\n<!-- end generated: x -->\nafter\n';
    expect(replaceBlock(text, 'x', 'new', 'f.md')).toBe('before\n<!-- begin generated: x -->\nnew\n<!-- end generated: x -->\nafter\n');
    expect(() => replaceBlock('no markers', 'x', 'new', 'f.md')).toThrow('f.md has no <!-- begin generated: x -->');
  });

  it("reads a setting's meaning from the doc comment above it, on one line", () => {
    const comments = settingComments('functions/braze/settings.ts');
    expect(comments.get('BRAZE_REST_ENDPOINT')).toBe('REST endpoint of the Braze instance, e.g. https://rest.iad-01.braze.com.');
    expect(comments.get('BRAZE_MAX_OBJECTS_PER_REQUEST')).toMatch(/^Objects per \/users\/track call .* Set 50 on such a contract\.$/);
  });
});
