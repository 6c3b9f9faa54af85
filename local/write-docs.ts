/**
 * `npm run docs`: regenerates the tables of docs/ that come from the catalogue and the settings
 * schemas (local/docs-tables.ts). `npm run docs -- --check` writes nothing and fails naming each
 * file whose generated block is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generatedFiles, PROJECT_ROOT } from './docs-tables';

const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [file, text] of generatedFiles()) {
  const target = path.join(PROJECT_ROOT, file);
  if (readFileSync(target, 'utf8') === text) continue;
  stale.push(file);
  if (!check) writeFileSync(target, text);
}
if (check && stale.length > 0) {
  console.error(`docs: out of date: ${stale.join(', ')}: run npm run docs`);
  process.exit(1);
}
console.log(stale.length === 0 ? 'docs: the generated tables are up to date' : `docs: wrote ${stale.join(', ')}`);
