// The registry these machines reach serves only the Linux builds of packages that ship one
// binary package per platform (@swc/core-darwin-arm64, @esbuild/win32-x64, ...). npm then leaves
// those optional dependencies out of package-lock.json, and `npm ci` refuses the lock as out of
// sync. This adds the missing entries back, marked optional, so the lock describes the whole tree:
// `npm ci` skips a platform build it cannot fetch (optional), and installs it where it can.
// Run after `npm install` changes the lock: node scripts/lockfile-optional.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
let added = 0;
for (const [location, entry] of Object.entries(lock.packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const parentDir = location === '' ? '' : `${location}/`;
    const candidates = [`${parentDir}node_modules/${name}`, `node_modules/${name}`];
    if (candidates.some((c) => lock.packages[c])) continue;
    const version = /^\d+\.\d+\.\d+(-[\w.]+)?$/.test(range) ? range : range.replace(/^[\^~=]/, '');
    lock.packages[`node_modules/${name}`] = { version, ...(entry.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lockfile-optional: ${added} optional platform package(s) recorded`);
