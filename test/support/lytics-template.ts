import vm from 'node:vm';
import { readmeBlock } from './readme';

/** The marker docs/partners.md puts before the Lytics webhook template it ships. */
const MARKER = '<!-- lytics-webhook-template: js1';

/**
 * The Lytics webhook template (type js1) exactly as docs/partners.md ships it, compiled as Lytics runs one
 * (Lytics, Webhook Templates: the script defines `function template(data)`, whose return value is the
 * request body), in a context of its own.
 */
export function readmeLyticsTemplate(): (data: unknown) => unknown {
  const code = readmeBlock(MARKER, 'js');
  const context = vm.createContext({});
  vm.runInContext(code, context, { filename: 'docs/partners.md (Lytics webhook template)', timeout: 1_000 });
  const template = (context as { template?: unknown }).template;
  if (typeof template !== 'function') throw new Error('the docs/partners.md template defines no function template(data)');
  // Across contexts objects keep their own prototypes: a JSON round trip gives plain values, as Lytics' body is text.
  return (data: unknown) => JSON.parse(JSON.stringify((template as (data: unknown) => unknown)(data))) as unknown;
}
