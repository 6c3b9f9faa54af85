// Fails on any source line longer than the formatter's width (biome.jsonc, lineWidth): Biome wraps
// code but never splits a string literal, so a long message or test name would slip past it.
// Run by `npm run check:width`, part of `npm test`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const WIDTH = 160;
const files = ['functions', 'lib', 'local', 'cli', 'test', 'bench', 'scripts', 'bin'].flatMap((dir) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|js|mjs|cjs)$/.test(name))
    .map((name) => path.join(dir, name)),
);
const long = [];
for (const file of files) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.length > WIDTH) long.push(`${file}:${index + 1}: ${line.length} characters`);
    });
}
if (long.length > 0) {
  console.error(`${long.length} line(s) over ${WIDTH} characters (split the string, or name a part of it):\n${long.join('\n')}`);
  process.exit(1);
}
console.log(`line width: ${files.length} files, no line over ${WIDTH} characters`);
