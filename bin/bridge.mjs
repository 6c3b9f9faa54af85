#!/usr/bin/env node
// `npx bridge ...` (package.json "bin"): the operator CLI, cli/bridge.ts, run through tsx like
// `npm start`. npx puts node_modules/.bin first on PATH, so `node` is the project's Node 24.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../cli/bridge.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
