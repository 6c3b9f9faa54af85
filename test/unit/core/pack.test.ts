import { chunk, mapWithConcurrency, packFirstFit, packSplitting } from '../../../functions/core/pack';

const single = (count: number): number[] => Array.from({ length: count }, (_, index) => index);
const one = (): number => 1;

describe('packFirstFit', () => {
  describe('with single-object groups at the Braze cap of 75', () => {
    it('returns no bins for no objects', () => {
      expect(packFirstFit([], one, 75)).toEqual([]);
    });

    it('puts one object in one bin', () => {
      expect(packFirstFit(single(1), one, 75)).toEqual([[0]]);
    });

    it('fits exactly 75 objects in one full bin', () => {
      const bins = packFirstFit(single(75), one, 75);

      expect(bins).toHaveLength(1);
      expect(bins[0]).toEqual(single(75));
    });

    it('splits 76 objects into a bin of 75 and a bin of 1', () => {
      const bins = packFirstFit(single(76), one, 75);

      expect(bins.map((bin) => bin.length)).toEqual([75, 1]);
      expect(bins[1]).toEqual([75]);
    });

    it('packs 10,000 objects into 134 bins of at most 75, in order, none lost or duplicated', () => {
      const groups = single(10_000);

      const bins = packFirstFit(groups, one, 75);

      expect(bins).toHaveLength(Math.ceil(10_000 / 75));
      expect(bins.every((bin) => bin.length >= 1 && bin.length <= 75)).toBe(true);
      expect(bins.slice(0, -1).every((bin) => bin.length === 75)).toBe(true);
      expect(bins.at(-1)).toHaveLength(10_000 - 133 * 75);
      expect(bins.flat()).toEqual(groups);
    });
  });

  describe('with whole queue messages of varying weight', () => {
    const message = (id: string, objects: number) => ({ id, objects: Array.from({ length: objects }, (_, i) => `${id}-${i}`) });
    const weight = (m: { objects: string[] }) => m.objects.length;

    it('keeps each message whole and fills earlier bins first', () => {
      const messages = [message('a', 40), message('b', 30), message('c', 20), message('d', 75), message('e', 5)];

      const bins = packFirstFit(messages, weight, 75);

      expect(bins.map((bin) => bin.map((m) => m.id))).toEqual([['a', 'b', 'e'], ['c'], ['d']]);
      expect(bins.map((bin) => bin.reduce((load, m) => load + weight(m), 0))).toEqual([75, 20, 75]);
    });

    it('places every message exactly once, by reference, never over the capacity', () => {
      const messages = [7, 75, 1, 60, 16, 74, 2, 33, 42, 9, 75, 11].map((objects, i) => message(`m${i}`, objects));

      const bins = packFirstFit(messages, weight, 75);

      const placed = bins.flat();
      expect(placed).toHaveLength(messages.length);
      expect(new Set(placed)).toEqual(new Set(messages));
      for (const bin of bins) expect(bin.reduce((load, m) => load + weight(m), 0)).toBeLessThanOrEqual(75);
    });

    it('gives a message heavier than the capacity a bin of its own instead of splitting it', () => {
      const oversized = message('big', 76);
      const messages = [message('a', 10), oversized, message('b', 10)];

      const bins = packFirstFit(messages, weight, 75);

      expect(bins).toEqual([[messages[0], messages[2]], [oversized]]);
      expect(bins[1]?.[0]?.objects).toHaveLength(76);
    });
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a capacity of %p', (capacity) => {
    expect(() => packFirstFit([1], one, capacity)).toThrow(RangeError);
  });
});

describe('chunk', () => {
  it('returns no chunks for an empty list', () => {
    expect(chunk([], 10)).toEqual([]);
  });

  it('splits 76 items by 75 into chunks of 75 and 1, keeping order', () => {
    const items = single(76);

    const chunks = chunk(items, 75);

    expect(chunks.map((c) => c.length)).toEqual([75, 1]);
    expect(chunks.flat()).toEqual(items);
  });

  it('splits 10,000 items by 10 into 1,000 chunks of 10', () => {
    const chunks = chunk(single(10_000), 10);

    expect(chunks).toHaveLength(1_000);
    expect(chunks.every((c) => c.length === 10)).toBe(true);
  });

  it.each([0, -3, 2.5])('refuses a chunk size of %p', (size) => {
    expect(() => chunk([1, 2, 3], size)).toThrow(RangeError);
  });
});

describe('mapWithConcurrency', () => {
  /** Lets a task yield `ticks` times to the microtask queue, so tasks finish out of start order. */
  const yieldTicks = async (ticks: number) => {
    for (let i = 0; i < ticks; i++) await Promise.resolve();
  };

  it('never has more than the limit in flight', async () => {
    let inFlight = 0;
    let highest = 0;
    const items = single(20);

    await mapWithConcurrency(items, 3, async () => {
      inFlight++;
      highest = Math.max(highest, inFlight);
      await yieldTicks(5);
      inFlight--;
    });

    expect(highest).toBe(3);
  });

  it('returns results in input order even when tasks finish in another order', async () => {
    const items = single(8);
    const finished: number[] = [];

    const results = await mapWithConcurrency(items, 4, async (item, index) => {
      await yieldTicks(20 - item * 2);
      finished.push(index);
      return item * 10;
    });

    expect(results).toEqual(items.map((item) => item * 10));
    expect(finished).not.toEqual(items);
  });

  it('calls the task once per item with its index', async () => {
    const seen: [string, number][] = [];

    await mapWithConcurrency(['a', 'b', 'c'], 2, async (item, index) => {
      seen.push([item, index]);
    });

    expect(seen.sort()).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
  });

  it('resolves to an empty list without calling the task for no items', async () => {
    const task = jest.fn(async () => 1);

    const results = await mapWithConcurrency([], 4, task);

    expect(results).toEqual([]);
    expect(task).not.toHaveBeenCalled();
  });

  it.each([0, -1, Number.NaN])('refuses a limit of %p instead of silently skipping every item', async (limit) => {
    const task = jest.fn(async (item: number) => item);

    await expect(mapWithConcurrency(single(3), limit, task)).rejects.toThrow(RangeError);
    expect(task).not.toHaveBeenCalled();
  });

  it('rejects when a task rejects', async () => {
    const failing = mapWithConcurrency(single(5), 2, async (item) => {
      if (item === 3) throw new Error('task 3 failed');
      return item;
    });

    await expect(failing).rejects.toThrow('task 3 failed');
  });
});

describe('packSplitting', () => {
  type Msg = { id: string; n: number; splittable: boolean };
  const weight = (m: Msg) => m.n;
  const split = (m: Msg, k: number): [Msg, Msg] | undefined =>
    m.splittable
      ? [
          { ...m, n: k },
          { ...m, n: m.n - k },
        ]
      : undefined;
  const loads = (bins: Msg[][]) => bins.map((bin) => bin.reduce((s, m) => s + m.n, 0));

  it('fills every call to capacity when messages may be split: ceil(total / capacity) calls', () => {
    const messages = Array.from({ length: 20 }, (_, i) => [
      ...Array.from({ length: 6 }, (_, j) => ({ id: `${i}-${j}`, n: 75, splittable: true })),
      { id: `${i}-tail`, n: 50, splittable: true },
    ]).flat();

    const bins = packSplitting(messages, weight, 75, split);

    expect(bins).toHaveLength(Math.ceil((20 * 500) / 75));
    expect(
      loads(bins)
        .slice(0, -1)
        .every((load) => load === 75),
    ).toBe(true);
    expect(loads(bins).reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('keeps unsplittable messages whole and fills the room they leave with splittable ones', () => {
    const messages: Msg[] = [
      { id: 'events-a', n: 50, splittable: false },
      { id: 'attrs', n: 60, splittable: true },
      { id: 'events-b', n: 40, splittable: false },
    ];

    const bins = packSplitting(messages, weight, 75, split);

    expect(bins.map((bin) => bin.map((m) => `${m.id}:${m.n}`))).toEqual([
      ['events-a:50', 'attrs:25'],
      ['events-b:40', 'attrs:35'],
    ]);
  });

  it('packs nothing into no bins and one message into one bin', () => {
    expect(packSplitting([], weight, 75, split)).toEqual([]);
    expect(packSplitting([{ id: 'a', n: 1, splittable: true }], weight, 75, split)).toEqual([[{ id: 'a', n: 1, splittable: true }]]);
  });

  it('splits one message of 76 into 75 and 1', () => {
    expect(loads(packSplitting([{ id: 'a', n: 76, splittable: true }], weight, 75, split))).toEqual([75, 1]);
  });
});
