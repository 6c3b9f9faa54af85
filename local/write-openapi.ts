/**
 * `npm run openapi`: generates the OpenAPI 3.1 document of the inbound routes (local/openapi.ts),
 * validates it against the OpenAPI schema (@seriousme/openapi-schema-validator) and writes it to
 * openapi.json at the repository root. `npm run openapi -- --check` writes nothing and fails when
 * openapi.json is missing or out of date (a route, schema or package version changed since).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { generateOpenApi, OPENAPI_FILE, serialise } from './openapi';

const check = process.argv.includes('--check');
const document = await generateOpenApi();
const validator = new Validator();
const result = await validator.validate(document as unknown as Record<string, unknown>);
if (!result.valid) {
  console.error(`openapi: the generated document is not valid OpenAPI ${document.openapi}:`);
  console.error(JSON.stringify(result.errors, null, 2));
  process.exit(1);
}
const text = serialise(document);
const relative = path.relative(process.cwd(), OPENAPI_FILE) || OPENAPI_FILE;
const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
if (check) {
  const current = existsSync(OPENAPI_FILE) ? readFileSync(OPENAPI_FILE, 'utf8') : undefined;
  if (current !== text) {
    console.error(`openapi: ${relative} is ${current === undefined ? 'missing' : 'out of date'}: run npm run openapi`);
    process.exit(1);
  }
  console.log(`openapi: ${relative} is up to date (${operations} operations, valid OpenAPI ${validator.version})`);
} else {
  writeFileSync(OPENAPI_FILE, text);
  console.log(`openapi: wrote ${relative} (${operations} operations, valid OpenAPI ${validator.version})`);
}
// Importing the handler modules may leave SDK clients' sockets about: nothing else is left to do.
process.exit(0);
