import { CallLedger, MemoryDedupeStore, MeteredHttpClient } from '../../../functions/core/delivery/call-ledger';
import { RetryableDeliveryError } from '../../../functions/core/errors';
import { HttpClient } from '../../../functions/core/http';
import { FakeClock, rejectionOf, reply, scriptedFetch } from '../helpers';

/** A ledger of `calls` per `windowSeconds` over one in-memory store on `clock`. */
function ledgerOn(store: MemoryDedupeStore, calls: number, windowSeconds = 3600) {
  return new CallLedger(store, { name: 'test-queue', calls, windowSeconds, holdSeconds: 110 });
}

function ledgersOn(store: MemoryDedupeStore, count: number, calls: number) {
  return Array.from({ length: count }, () => ledgerOn(store, calls));
}

/** Takes up to `want` slots and spends them all, as a run whose calls all start at once. */
async function spendNow(ledger: CallLedger, want: number): Promise<number> {
  const slots = await ledger.take(want);
  for (const slot of slots) await ledger.spend(slot);
  return slots.length;
}

describe('the call ledger', () => {
  it('starts full: 3 an hour are there at once, the fourth an hour after the first', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const ledger = ledgerOn(new MemoryDedupeStore(clock), 3);

    expect(await spendNow(ledger, 1)).toBe(1);
    clock.current = start + 10_000;
    expect(await spendNow(ledger, 5)).toBe(2);
    clock.current = start + 3_599_000;
    expect(await spendNow(ledger, 1)).toBe(0);
    clock.current = start + 3_601_000;
    expect(await spendNow(ledger, 5)).toBe(1); // the first call's slot only: the other two were spent at 10 s
    clock.current = start + 3_611_000;
    expect(await spendNow(ledger, 5)).toBe(2);
  });

  it('gives back what a run did not spend, for the next run to use at once', async () => {
    const clock = new FakeClock();
    const ledger = ledgerOn(new MemoryDedupeStore(clock), 4);

    const slots = await ledger.take(4);
    await ledger.spend(slots[0]!);
    await ledger.giveBack(slots.slice(1));

    expect(await spendNow(ledger, 4)).toBe(3);
    expect(await spendNow(ledger, 4)).toBe(0);
  });

  it('keeps a slot claimed and never spent or given back (a run that died) until its hold expires', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const store = new MemoryDedupeStore(clock);
    expect(await ledgerOn(store, 2).take(2)).toHaveLength(2);

    const next = ledgerOn(store, 2);
    expect(await next.take(2)).toHaveLength(0);
    clock.current = start + 111_000;
    expect(await next.take(2)).toHaveLength(2);
  });

  it('never lets instances sharing the store hold more slots than the budget, whatever each wants, one after another or at once', async () => {
    const clock = new FakeClock();
    const sequential = ledgersOn(new MemoryDedupeStore(clock), 5, 7);
    const concurrent = ledgersOn(new MemoryDedupeStore(clock), 5, 7);

    let one = 0;
    for (const ledger of sequential) one += await spendNow(ledger, 4);
    const all = await Promise.all(concurrent.map((ledger) => spendNow(ledger, 4)));

    expect(one).toBe(7);
    expect(all.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(all.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(7);
  });

  it('lets a new instance (cold) find the slots an older one left free within a few runs, then take what it wants', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const store = new MemoryDedupeStore(clock);
    const first = ledgerOn(store, 100);
    // 60 calls spent a minute apart from t = 0, then the instance is gone.
    for (let i = 0; i < 60; i++) {
      clock.current = start + i * 60_000;
      expect(await spendNow(first, 1)).toBe(1);
    }

    const cold = ledgerOn(store, 100);
    clock.current = start + 60 * 60_000;
    let found = 0;
    let runs = 0;
    while (found === 0 && runs < 10) {
      found = await spendNow(cold, 16);
      runs++;
    }

    expect(runs).toBeLessThanOrEqual(2);
    expect(found).toBeGreaterThan(0);
    expect(found).toBeLessThanOrEqual(16);
    // Warm now: its cursor follows its own calls into the free slots.
    expect(await spendNow(cold, 16)).toBe(16);
  });
});

describe('the metered HTTP client a scheduled run hands send', () => {
  it('spends one slot per request, makes one attempt whatever policy send asks, and calls nothing once the slots are spent', async () => {
    const { fetch, requests } = scriptedFetch(reply(503), reply(201));
    const inner = new HttpClient({ fetch, clock: new FakeClock(), policy: { retries: 4, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 1000 } });
    let slots = 2;
    const metered = new MeteredHttpClient(inner, async () => slots-- > 0);
    const request = { method: 'POST' as const, url: 'https://seen.example/x', body: '[]' };

    await rejectionOf(RetryableDeliveryError, metered.withPolicy({ retries: 3 }).send(request, { label: 'test' }));
    expect(requests).toHaveLength(1);
    expect((await metered.send(request, { label: 'test', policy: { retries: 5 } })).status).toBe(201);
    expect(requests).toHaveLength(2);
    const spent = await rejectionOf(RetryableDeliveryError, metered.send(request, { label: 'test' }));
    expect(spent.message).toContain('call budget is spent');
    expect(requests).toHaveLength(2);
  });
});
