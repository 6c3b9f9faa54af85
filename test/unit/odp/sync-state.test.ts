/**
 * The segment sync's saved state is checked on load: a state saved by another version of the code
 * (a redrive after a deploy that changed it), or a malformed one, fails the step by name before any
 * call is made, instead of halfway through a segment.
 */
import type { Context } from 'aws-lambda';
import { catalogue } from '../../../functions/catalogue';
import { loadConfig } from '../../../functions/core/config';
import { createDeps } from '../../../functions/core/deps';
import { HttpClient } from '../../../functions/core/http';
import { JobStateError, type JobStateStore } from '../../../functions/core/job-state';
import { EnvSecretStore } from '../../../functions/core/secrets';
import { build } from '../../../functions/odp/segment-sync';
import { loadSyncState, newSyncState, SYNC_STATE_VERSION, type SyncState } from '../../../functions/odp/sync-state';
import { FakeClock, rejectionOf, reply, scriptedFetch } from '../helpers';

/** The flow the job's logs, metrics and saved state carry. */
const FLOW_ID = catalogue.job('odp-segment-sync').flowId;

const PRESIGNED = 'https://s3.test/export.zip?X-Amz-Signature=secret';

/** A job state table in memory, holding whatever JSON a run saved. */
class MemoryStore implements JobStateStore {
  readonly saved = new Map<string, unknown>();
  async load<T>(job: string, runId: string): Promise<T | undefined> {
    return this.saved.get(`${job}:${runId}`) as T | undefined;
  }
  async save<T>(job: string, runId: string, state: T): Promise<void> {
    this.saved.set(`${job}:${runId}`, JSON.parse(JSON.stringify(state)));
  }
}

/** A state midway through a segment, as a step of this version saves it. */
function streaming(): SyncState {
  return {
    ...newSyncState(1_700_000_000_000),
    phase: 'stream',
    segments: [{ id: 'seg-1', name: 'VIP' }],
    exportUrl: PRESIGNED,
    exportRequestedAt: 1_700_000_060_000,
    exports: 1,
    position: { entry: 1, line: 4_000 },
  };
}

const storeHolding = (state: unknown) => {
  const store = new MemoryStore();
  store.saved.set(`${FLOW_ID}:run-1`, state);
  return store;
};

describe('loadSyncState', () => {
  it('starts a new run at version 1 when nothing is saved', async () => {
    const state = await loadSyncState(new MemoryStore(), FLOW_ID, 'run-1', 42);
    expect(state).toEqual(newSyncState(42));
    expect(state.version).toBe(SYNC_STATE_VERSION);
  });

  it('returns a state this version saved, as it was saved', async () => {
    const store = new MemoryStore();
    await store.save(FLOW_ID, 'run-1', streaming());
    expect(await loadSyncState(store, FLOW_ID, 'run-1', 42)).toEqual(streaming());
  });

  it.each([
    [{ ...streaming(), version: 2 }, 'saved as version 2, this code reads version 1'],
    [{ ...streaming(), version: undefined }, 'saved as version (none), this code reads version 1'],
    [{ ...streaming(), version: '1' }, 'saved as version (a string), this code reads version 1'],
    [['not', 'a', 'state'], 'saved as version (none), this code reads version 1'],
  ])('fails a state of another version naming the versions (%#)', async (saved, message) => {
    const error = await rejectionOf(JobStateError, loadSyncState(storeHolding(saved), FLOW_ID, 'run-1', 42));
    expect(error.message).toBe(`job state of ${FLOW_ID} run run-1: ${message}; start a new run`);
  });

  it.each([
    [{ ...streaming(), position: { entry: 1, line: '4000' } }, 'position.line'],
    [{ ...streaming(), phase: 'download' }, 'phase'],
    [{ ...streaming(), segments: [{ id: '', name: 'VIP' }] }, 'segments[0].id'],
    [{ ...streaming(), totals: { ...streaming().totals, requests: -1 } }, 'totals.requests'],
    [{ ...streaming(), exportUrl: 42 }, 'exportUrl'],
    [{ ...streaming(), exportKey: 'abc' }, 'the state'],
  ])('fails a malformed state naming its first bad field, never its value (%#)', async (saved, field) => {
    const error = await rejectionOf(JobStateError, loadSyncState(storeHolding(saved), FLOW_ID, 'run-1', 42));
    expect(error.message).toMatch(
      new RegExp(`^job state of ${FLOW_ID} run run-1 \\(version 1\\): ${field === 'the state' ? '' : 'field '}${field.replace(/[[\]().]/g, '\\$&')}: `),
    );
    expect(error.message).not.toMatch(/4000|download|X-Amz-Signature|abc/);
  });
});

describe('a segment sync step with a saved state it cannot read', () => {
  it('fails by name before any call to Braze or ODP, and saves nothing over the state', async () => {
    const clock = new FakeClock();
    const { fetch, requests } = scriptedFetch(reply(200, '{}'));
    const config = loadConfig({
      BRAZE_REST_ENDPOINT: 'https://rest.braze.test',
      BRAZE_API_KEY: 'braze-key',
      ODP_API_URL: 'https://api.zaius.test',
      ODP_API_KEY: 'odp-key',
      LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const deps = createDeps(FLOW_ID, config, { secrets: EnvSecretStore.fromConfig(config), clock, http: new HttpClient({ clock, fetch }) });
    const saved = { ...streaming(), version: 2 };
    const store = storeHolding(saved);
    const step = build(deps, { store, fetch });

    const context = { getRemainingTimeInMillis: () => 900_000 } as unknown as Context;
    const error = await rejectionOf(JobStateError, step({ runId: 'run-1' }, context));

    expect(error.message).toMatch(/saved as version 2, this code reads version 1/);
    expect(requests).toEqual([]);
    expect(store.saved.get(`${FLOW_ID}:run-1`)).toEqual(saved);
  });
});
