/**
 * First-fit packing of weighted groups into bins of at most `capacity`, keeping each group whole
 * and bins in arrival order. Used to combine queue messages into Braze calls (<= BRAZE_MAX_OBJECTS_PER_TRACK objects, functions/braze/limits.ts) and
 * SEEN receivers into calls (<= the per-call cap) so that one message maps to exactly one call:
 * a failed call then retries only its own messages and never re-sends a delivered one.
 * A group heavier than the capacity gets a bin of its own (callers split such groups beforehand).
 */
export function packFirstFit<T>(groups: readonly T[], weight: (group: T) => number, capacity: number): T[][] {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  const bins: { items: T[]; load: number }[] = [];
  for (const group of groups) {
    const w = weight(group);
    const bin = bins.find((candidate) => candidate.load + w <= capacity);
    if (bin) {
      bin.items.push(group);
      bin.load += w;
    } else {
      bins.push({ items: [group], load: w });
    }
  }
  return bins.map((bin) => bin.items);
}

/** Splits a list into consecutive chunks of at most `size` (order kept; [] for []). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Runs `task` over `items` with at most `limit` in flight; results in input order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  // Without this, a limit below 1 starts no worker and resolves with holes: every item silently skipped.
  if (!(limit >= 1)) throw new RangeError(`limit must be at least 1, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Packs groups into bins of at most `capacity`, splitting the groups `split` allows (it returns
 * the first `n` units and the rest, or undefined for a group that must stay whole). Whole groups
 * are placed first-fit; splittable ones then fill what room is left, bin by bin, before opening
 * new bins, so a backfill of splittable groups needs ceil(total / capacity) bins.
 */
export function packSplitting<T>(
  groups: readonly T[],
  weight: (group: T) => number,
  capacity: number,
  split: (group: T, n: number) => [T, T] | undefined,
): T[][] {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  const bins: { items: T[]; load: number }[] = [];
  const splittable: T[] = [];
  for (const group of groups) {
    const w = weight(group);
    if (w > 1 && split(group, 1) !== undefined) {
      splittable.push(group);
      continue;
    }
    const bin = bins.find((candidate) => candidate.load + w <= capacity);
    if (bin) {
      bin.items.push(group);
      bin.load += w;
    } else bins.push({ items: [group], load: w });
  }
  let open = 0; // bins before `open` are full
  for (const group of splittable) {
    let rest: T | undefined = group;
    while (rest !== undefined) {
      while (open < bins.length && bins[open]!.load >= capacity) open++;
      if (open === bins.length) bins.push({ items: [], load: 0 });
      const bin = bins[open]!;
      const w = weight(rest);
      const room = capacity - bin.load;
      if (w <= room) {
        bin.items.push(rest);
        bin.load += w;
        rest = undefined;
      } else {
        const parts = split(rest, room);
        if (!parts) throw new Error('split refused a group it accepted before');
        bin.items.push(parts[0]);
        bin.load += room;
        rest = parts[1];
      }
    }
  }
  return bins.map((bin) => bin.items);
}
