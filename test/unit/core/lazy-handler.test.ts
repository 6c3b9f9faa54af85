import { braze } from '../../../functions/braze/partner';
import { UnknownIdError } from '../../../functions/core/catalogue-index';
import type { DeliveryQueue } from '../../../functions/core/catalogue-types';
import { type Deps, lazyHandler } from '../../../functions/core/deps';
import { ConfigError } from '../../../functions/core/errors';

describe('lazyHandler: the loader hands build its own catalogue entry', () => {
  const saved = { BRIDGE_FLOW_ID: process.env.BRIDGE_FLOW_ID, LOG_LEVEL: process.env.LOG_LEVEL };
  beforeEach(() => {
    process.env.LOG_LEVEL = 'SILENT';
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  /** A handler over the Braze lanes that answers with what its build was given, and counts its builds. */
  function recording() {
    const builds: { flowId: string; queue: string }[] = [];
    const handler = lazyHandler(braze.queues, (deps: Deps, queue: DeliveryQueue) => {
      builds.push({ flowId: deps.flowId, queue: queue.id });
      return async (event: string) => `${queue.id} ${event}`;
    });
    return { handler, builds };
  }

  it("builds once, on first use, with the entry whose flow is the function's BRIDGE_FLOW_ID (one module, several lanes)", async () => {
    process.env.BRIDGE_FLOW_ID = 'braze-track-bulk-delivery';
    const { handler, builds } = recording();
    expect(builds).toEqual([]);
    expect(await handler('a', undefined)).toBe('braze-track-bulk a');
    expect(await handler('b', undefined)).toBe('braze-track-bulk b');
    expect(builds).toEqual([{ flowId: 'braze-track-bulk-delivery', queue: 'braze-track-bulk' }]);

    process.env.BRIDGE_FLOW_ID = 'braze-track-delivery';
    const realtime = recording();
    expect(await realtime.handler('c', undefined)).toBe('braze-track c');
    expect(realtime.builds).toEqual([{ flowId: 'braze-track-delivery', queue: 'braze-track' }]);
  });

  it('fails by name without BRIDGE_FLOW_ID, or with one the module does not serve (listing those it does)', async () => {
    delete process.env.BRIDGE_FLOW_ID;
    expect(() => recording().handler('a', undefined)).toThrow(new ConfigError('BRIDGE_FLOW_ID is not set (the stack sets it on every function)'));
    process.env.BRIDGE_FLOW_ID = 'seen-drain';
    expect(() => recording().handler('a', undefined)).toThrow(UnknownIdError);
    expect(() => recording().handler('a', undefined)).toThrow(
      'no function seen-drain in the catalogue (functions: braze-track-delivery, braze-track-bulk-delivery, braze-triggers-delivery)',
    );
  });
});
