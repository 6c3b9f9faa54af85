/**
 * What became of each message of a batch or run, the vocabulary the drives settle with SQS:
 * `delivered` (done, remembered for dedupe), `parked` (refused for good, in the DLQ with its
 * reason: done), `later` (the destination did not take it: it waits `seconds`; `attempted` says
 * whether a call was made, so a message never tried does not spend a receive toward the DLQ).
 */
export type Verdict = { kind: 'delivered' } | { kind: 'parked' } | { kind: 'later'; seconds: number; attempted: boolean };

export const delivered: Verdict = { kind: 'delivered' };
export const parked: Verdict = { kind: 'parked' };
export const later = (seconds: number, attempted: boolean): Verdict => ({ kind: 'later', seconds, attempted });

/**
 * Verdicts by message id. A message split over several calls takes the worst of its parts:
 * `later` (the longest wait; attempted if any part was) over `parked` over `delivered`, so a
 * message is done only when every part is.
 */
export class Verdicts {
  private readonly byId = new Map<string, Verdict>();

  set(id: string, verdict: Verdict): void {
    const before = this.byId.get(id);
    this.byId.set(id, before ? worst(before, verdict) : verdict);
  }

  setAll(ids: Iterable<string>, verdict: Verdict): void {
    for (const id of ids) this.set(id, verdict);
  }

  merge(other: Verdicts): void {
    for (const [id, verdict] of other.entries()) this.set(id, verdict);
  }

  get(id: string): Verdict | undefined {
    return this.byId.get(id);
  }

  entries(): IterableIterator<[string, Verdict]> {
    return this.byId.entries();
  }

  ids(kind: Verdict['kind']): string[] {
    return [...this.byId].filter(([, verdict]) => verdict.kind === kind).map(([id]) => id);
  }
}

function worst(a: Verdict, b: Verdict): Verdict {
  if (a.kind === 'later' && b.kind === 'later') return later(Math.max(a.seconds, b.seconds), a.attempted || b.attempted);
  if (a.kind === 'later') return a;
  if (b.kind === 'later') return b;
  if (a.kind === 'parked' || b.kind === 'parked') return parked;
  return delivered;
}
