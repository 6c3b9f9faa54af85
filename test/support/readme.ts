import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The first fenced block of `language` after `marker` in docs/partners.md (where the webhook
 * templates live), as the page ships it (the indentation of a block inside a list item removed), so
 * a test checks the text a reader copies.
 */
export function readmeBlock(marker: string, language: string): string {
  const readme = readFileSync(path.join(__dirname, '../../docs/partners.md'), 'utf8');
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`docs/partners.md has no "${marker}"`);
  const block = new RegExp(`^( *)\`\`\`${language}\\n([\\s\\S]*?)\\n\\1\`\`\``, 'm').exec(readme.slice(at));
  if (!block) throw new Error(`no \`\`\`${language} block after "${marker}" in docs/partners.md`);
  const indent = block[1]!;
  return block[2]!
    .split('\n')
    .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
    .join('\n');
}
