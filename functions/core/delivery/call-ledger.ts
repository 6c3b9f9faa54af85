import type { Clock } from '../clock';
import type { Claims, DedupeStore } from '../dedupe';
import { RetryableDeliveryError } from '../errors';
import { HttpClient as BaseHttpClient, type HttpClient, type HttpRequest, type HttpResponse, type RetryPolicy, type SendOptions } from '../http';

/**
 * A rolling-window call budget shared by every run of a scheduled drive, whichever instance runs
 * it: at most `calls` calls in any `windowSeconds`, however small (3 an hour works), starting full.
 *
 * It is kept in the dedupe store (DynamoDB in AWS and under `npm start`) as `calls` slots,
 * `budget:<queue>:<n>`: a call holds one slot from the moment it starts until `windowSeconds`
 * later, so no window can hold more calls than there are slots, whatever the timing of the runs.
 * A run claims the slots it may use first (a conditional write each: two runs cannot hold one
 * slot), confirms each as its call starts (the slot then expires a window after that call), and
 * gives back what it did not use. Slots are taken in turn from a cursor, so a warm run tries as
 * many as it wants and stops at the first held one (the oldest call, the next to free); a cold
 * one (a new Lambda instance) sweeps ahead a few slots per run, never more than it could use
 * plus a margin, and may at worst wait longer than needed, never send more than allowed.
 */
export class CallLedger {
  /** The next slot to try. */
  private cursor = 0;
  /** Whether this instance has taken a slot since it started: the cursor then follows its own calls. */
  private warm = false;

  constructor(
    private readonly store: DedupeStore,
    private readonly options: {
      /** The queue whose calls are counted (slot keys are `budget:<name>:<n>`). */
      name: string;
      calls: number;
      windowSeconds: number;
      /** How long a claimed slot is held before its run confirms or gives it back (a run's timeout, and a margin). */
      holdSeconds: number;
    },
  ) {
    if (!(Number.isInteger(options.calls) && options.calls > 0)) throw new RangeError(`calls must be a positive integer, got ${options.calls}`);
  }

  private key(slot: number): string {
    return `budget:${this.options.name}:${slot}`;
  }

  private slotOf(key: string): number {
    return Number(key.slice(key.lastIndexOf(':') + 1));
  }

  /** Claims up to `want` slots; resolves with the keys claimed, in turn (none when the window is spent). */
  async take(want: number): Promise<string[]> {
    const { calls, holdSeconds } = this.options;
    const wanted = Math.min(Math.floor(want), calls);
    if (wanted < 1) return [];
    const { warm, cursor: start } = this;
    // Warm: the slots after the cursor are the oldest; the first held one is the next to free.
    // Cold: sweep a little further each run, so the free slots are found again within a few runs.
    const reach = Math.min(calls, warm ? wanted : wanted + COLD_SWEEP);
    const slots = Array.from({ length: reach }, (_, i) => (start + i) % calls);
    const claims: Claims = await this.store.claim(
      slots.map((slot) => this.key(slot)),
      holdSeconds,
    );
    const taken = slots.filter((slot) => claims.claimed.has(this.key(slot)));
    const surplus = taken.splice(wanted);
    if (surplus.length > 0) await this.store.release(surplus.map((slot) => this.key(slot)));
    if (taken.length > 0) {
      this.cursor = (taken.at(-1)! + 1) % calls;
      this.warm = true;
    } else if (!warm) this.cursor = (start + reach) % calls;
    return taken.map((slot) => this.key(slot));
  }

  /** A call is starting on `key`: the slot is held until a window from now. */
  async spend(key: string): Promise<void> {
    // A second more: the store may count in whole seconds.
    await this.store.confirm([key], this.options.windowSeconds + 1);
  }

  /** Slots claimed and not spent are free again; the next take starts with them. */
  async giveBack(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.store.release(keys);
    this.cursor = this.slotOf(keys[0]!);
  }
}

/** Slots a cold ledger tries beyond what it wants. */
const COLD_SWEEP = 16;

/**
 * The dedupe store of one process, for a scheduled drive that has no table (unit tests): claims
 * and confirmations expire on the given clock, to the millisecond.
 */
export class MemoryDedupeStore implements DedupeStore {
  private readonly items = new Map<string, { state: 'in_flight' | 'delivered'; expiresAt: number }>();

  constructor(private readonly clock: Pick<Clock, 'now'>) {}

  async claim(keys: readonly string[], inFlightSeconds: number): Promise<Claims> {
    const claims: Claims = { claimed: new Set(), delivered: new Set(), inFlight: new Set() };
    const now = this.clock.now();
    for (const key of new Set(keys)) {
      const item = this.items.get(key);
      if (item && item.expiresAt > now) (item.state === 'delivered' ? claims.delivered : claims.inFlight).add(key);
      else {
        this.items.set(key, { state: 'in_flight', expiresAt: now + inFlightSeconds * 1000 });
        claims.claimed.add(key);
      }
    }
    return claims;
  }

  async confirm(keys: readonly string[], ttlSeconds: number): Promise<void> {
    const expiresAt = this.clock.now() + ttlSeconds * 1000;
    for (const key of keys) this.items.set(key, { state: 'delivered', expiresAt });
  }

  async release(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.items.delete(key);
  }
}

/**
 * The client a scheduled run hands `send`: every request spends one slot of the run's budget
 * first (a call refused, bisected or failed counts as much as one delivered), and makes one
 * attempt only, whatever policy `send` asks for. With no slot left it throws without calling.
 */
export class MeteredHttpClient extends BaseHttpClient {
  constructor(
    private readonly inner: HttpClient,
    private readonly spend: () => Promise<boolean>,
  ) {
    super();
  }

  override withPolicy(policy: Partial<RetryPolicy>): HttpClient {
    return new MeteredHttpClient(this.inner.withPolicy({ ...policy, retries: 0 }), this.spend);
  }

  override get retryPolicy(): Readonly<RetryPolicy> {
    return this.inner.retryPolicy;
  }

  override async send(request: HttpRequest, options: SendOptions): Promise<HttpResponse> {
    if (!(await this.spend())) throw new RetryableDeliveryError(`${options.label}: this run's share of the call budget is spent`);
    return this.inner.send(request, { ...options, policy: { ...options.policy, retries: 0 } });
  }
}
