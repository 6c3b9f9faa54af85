import type { CatalogueEntry } from '../functions/core/catalogue-index';
import type { Deps } from '../functions/core/deps';

/** Told of every handler invocation the runner makes: the function's flow and how long the invocation took. */
export type OnInvoke = (flowId: string, ms: number) => void;

/** Any handler: the wrapper passes its event and context through untouched. */
type Handler = (event: never, context: never) => Promise<unknown>;

/**
 * A handler module whose built handlers report each invocation's duration to `onInvoke` (what
 * bench/cost.ts bills as Lambda invocations and GB-seconds). Without `onInvoke`, the module itself.
 */
export function reportingInvocations<M extends { build: (deps: Deps, entry: CatalogueEntry) => Handler }>(mod: M, onInvoke?: OnInvoke): M {
  if (!onInvoke) return mod;
  const build = (deps: Deps, entry: CatalogueEntry): Handler => {
    const handler = mod.build(deps, entry);
    return async (event, context) => {
      const started = performance.now();
      try {
        return await handler(event, context);
      } finally {
        onInvoke(deps.flowId, performance.now() - started);
      }
    };
  };
  return { ...mod, build };
}
