/** The floor for bench/bundles.ts: a handler that imports nothing, bundled and timed like the real ones. */
export const handler = async () => ({});
