import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

/** The marker the README puts before the Lytics webhook template it ships. */
const MARKER = '<!-- lytics-webhook-template: js1';

/**
 * The Lytics webhook template (type js1) exactly as the README ships it, compiled as Lytics runs one
 * (Lytics, Webhook Templates: the script defines `function template(data)`, whose return value is the
 * request body), in a context of its own.
 */
export function readmeLyticsTemplate(): (data: unknown) => unknown {
  const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const at = readme.indexOf(MARKER);
  if (at < 0) throw new Error('README.md has no Lytics webhook template marker');
  const block = /```js\n([\s\S]*?)\n\s*```/.exec(readme.slice(at));
  if (!block) throw new Error('no ```js block after the Lytics webhook template marker');
  const code = block[1]!.replace(/^ {5}/gm, '');
  const context = vm.createContext({});
  vm.runInContext(code, context, { filename: 'README.md (Lytics webhook template)', timeout: 1_000 });
  const template = (context as { template?: unknown }).template;
  if (typeof template !== 'function') throw new Error('the README template defines no function template(data)');
  // Across contexts objects keep their own prototypes: a JSON round trip gives plain values, as Lytics' body is text.
  return (data: unknown) => JSON.parse(JSON.stringify((template as (data: unknown) => unknown)(data))) as unknown;
}
