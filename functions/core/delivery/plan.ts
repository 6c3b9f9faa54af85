import type { DeliveryLimits } from '../catalogue-types';
import { packFirstFit, packSplitting } from '../pack';

/** The most records per call: the catalogue's, lowered (never raised) by its setting where set. */
export function itemsPerCall(limits: DeliveryLimits, settings: Readonly<Record<string, unknown>>): number {
  const configured = limits.itemsPerCallSetting ? Number(settings[limits.itemsPerCallSetting]) : Number.NaN;
  return Number.isInteger(configured) && configured > 0 ? Math.min(limits.itemsPerCall, configured) : limits.itemsPerCall;
}

export interface PlanOptions<T> {
  capacity: number;
  weight: (record: T) => number;
  bytes: (record: T) => number;
  bytesPerCall?: number;
  group?: (record: T) => string;
  split?: (record: T, n: number) => [T, T] | undefined;
}

/**
 * Plans the calls for a set of records within the limits: per group (where grouped), records packed
 * up to `capacity` (splitting only what `split` allows), then each call cut to the byte budget
 * keeping records whole. A record heavier than the capacity or the budget gets a call of its own.
 */
export function planCalls<T>(records: readonly T[], options: PlanOptions<T>): T[][] {
  const groups = options.group ? [...Map.groupBy(records, options.group).values()] : [records];
  return groups.flatMap((group) => {
    const byItems = options.split
      ? packSplitting(group, options.weight, options.capacity, options.split)
      : packFirstFit(group, options.weight, options.capacity);
    const budget = options.bytesPerCall;
    if (budget === undefined) return byItems;
    return byItems.flatMap((call) => packFirstFit(call, (record) => Math.min(options.bytes(record), budget), budget));
  });
}

/**
 * The two halves of a call the destination refused as a whole, to find the records it refuses:
 * by record while the call has several, then, for one record that may be split (idempotent
 * attribute updates), by its items. Undefined when the call is one indivisible record.
 */
export function bisect<T>(records: readonly T[], weight: (record: T) => number, split?: (record: T, n: number) => [T, T] | undefined): [T[], T[]] | undefined {
  if (records.length > 1) {
    const middle = Math.ceil(records.length / 2);
    return [records.slice(0, middle), records.slice(middle)];
  }
  const [only] = records;
  if (only === undefined || !split) return undefined;
  const items = weight(only);
  if (items < 2) return undefined;
  const parts = split(only, Math.ceil(items / 2));
  return parts ? [[parts[0]], [parts[1]]] : undefined;
}
