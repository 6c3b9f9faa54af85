/**
 * The catalogue by id: every lookup of a flow, queue, job or partner goes through one index, and an
 * id it does not hold fails by name with the ids it does (UnknownIdError). Partner-agnostic: the
 * index is built from a partner list (functions/catalogue.ts builds the project's).
 */
import { type DeliveryQueue, type IngressFlow, isScheduledJob, isUploadJob, type Job, type Partner, type S3Job, type ScheduledJob } from './catalogue-types';

/** An id the catalogue does not hold; the message lists the ids it does. */
export class UnknownIdError extends Error {
  constructor(
    readonly kind: string,
    readonly id: string,
    readonly known: readonly string[],
  ) {
    super(`no ${kind} ${id} in the catalogue (${kind}s: ${known.join(', ') || 'none'})`);
    this.name = 'UnknownIdError';
  }
}

/** What one deployed function is: an ingress flow, a queue's consumer or a job. */
export type CatalogueEntry = IngressFlow | DeliveryQueue | Job;

/**
 * The `flow` a function's logs and EMF metrics carry (and the stack's BRIDGE_FLOW_ID): a flow's id,
 * a queue's consumer flow id (`<queue>-delivery`), a job's flow id.
 */
export function flowOf(entry: CatalogueEntry): string {
  if ('consumer' in entry) return entry.consumer.flowId;
  if ('flowId' in entry) return entry.flowId;
  return entry.id;
}

/** A route path template (`/seen/campaigns/{campaign_slug}/receivers`): its parameters, matching and filling. */
export class RouteTemplate {
  readonly segments: readonly string[];
  /** Path parameter names, in order: `/a/{b}/c` -> `['b']`. */
  readonly parameters: readonly string[];

  constructor(readonly path: string) {
    this.segments = path.split('/');
    this.parameters = this.segments.filter(isParameter).map((segment) => segment.slice(1, -1));
  }

  /** The parameters of `actual` (decoded) when it matches the template; undefined when it does not. */
  match(actual: string): Record<string, string> | undefined {
    const got = actual.split('/');
    if (got.length !== this.segments.length) return undefined;
    const params: Record<string, string> = {};
    for (const [i, want] of this.segments.entries()) {
      const segment = got[i] as string;
      if (isParameter(want)) {
        if (!segment) return undefined;
        params[want.slice(1, -1)] = decodeURIComponent(segment);
      } else if (want !== segment) return undefined;
    }
    return params;
  }

  /** The path with each parameter replaced by `value(name)`, URL-encoded. */
  fill(value: (name: string) => string): string {
    return this.segments.map((segment) => (isParameter(segment) ? encodeURIComponent(value(segment.slice(1, -1))) : segment)).join('/');
  }
}

function isParameter(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}');
}

function byId<T extends { id: string }>(kind: string, entries: readonly T[]): (id: string) => T {
  const index = new Map(entries.map((entry) => [entry.id, entry]));
  return (id) => {
    const found = index.get(id);
    if (!found) throw new UnknownIdError(kind, id, [...index.keys()]);
    return found;
  };
}

export interface CatalogueIndex {
  readonly partners: readonly Partner[];
  readonly flows: readonly IngressFlow[];
  readonly queues: readonly DeliveryQueue[];
  readonly jobs: readonly Job[];
  readonly uploadJobs: readonly S3Job[];
  readonly scheduledJobs: readonly ScheduledJob[];
  partner(id: string): Partner;
  flow(id: string): IngressFlow;
  queue(id: string): DeliveryQueue;
  job(id: string): Job;
  uploadJob(id: string): S3Job;
  scheduledJob(id: string): ScheduledJob;
  /** The function whose logs and metrics carry `flowId` (flowOf): a flow, a queue's consumer or a job. */
  function(flowId: string): CatalogueEntry;
  /** The flow serving `method path`, with its path parameters; undefined when none does. */
  route(method: string, path: string): { flow: IngressFlow; params: Record<string, string> } | undefined;
}

export function catalogueIndex(partners: readonly Partner[]): CatalogueIndex {
  const flows = partners.flatMap((partner) => partner.flows);
  const queues = partners.flatMap((partner) => partner.queues);
  const jobs = partners.flatMap((partner) => partner.jobs);
  const uploadJobs = jobs.filter(isUploadJob);
  const scheduledJobs = jobs.filter(isScheduledJob);
  const routes = flows.map((flow) => ({ flow, template: new RouteTemplate(flow.path) }));
  const functions = new Map<string, CatalogueEntry>([...flows, ...queues, ...jobs].map((entry) => [flowOf(entry), entry]));
  return {
    partners,
    flows,
    queues,
    jobs,
    uploadJobs,
    scheduledJobs,
    partner: byId('partner', partners),
    flow: byId('flow', flows),
    queue: byId('queue', queues),
    job: byId('job', jobs),
    uploadJob: byId('upload job', uploadJobs),
    scheduledJob: byId('scheduled job', scheduledJobs),
    function: (flowId) => {
      const found = functions.get(flowId);
      if (!found) throw new UnknownIdError('function', flowId, [...functions.keys()]);
      return found;
    },
    route: (method, path) => {
      for (const { flow, template } of routes) {
        if (flow.method !== method) continue;
        const params = template.match(path);
        if (params) return { flow, params };
      }
      return undefined;
    },
  };
}

/** The module that serves an entry (from the project root): a flow's or job's `entry`, a queue's consumer's. */
export function moduleOf(entry: CatalogueEntry): string {
  return 'consumer' in entry ? entry.consumer.entry : entry.entry;
}

/**
 * The entry of `entries` whose functions' logs carry `flowId` (flowOf): how a handler module finds
 * its own catalogue entry in its partner's list, from the BRIDGE_FLOW_ID the stack sets.
 */
export function entryFor<T extends CatalogueEntry>(entries: readonly T[], flowId: string): T {
  const found = entries.find((entry) => flowOf(entry) === flowId);
  if (!found) throw new UnknownIdError('function', flowId, entries.map(flowOf));
  return found;
}

/** The ids of the flows that put messages on `queue` (its `queue` or one of its `alsoFeeds`). */
export function flowsFeeding(flows: readonly IngressFlow[], queue: Pick<DeliveryQueue, 'id'>): string[] {
  return flows.filter((flow) => flow.queue === queue.id || flow.alsoFeeds?.includes(queue.id)).map((flow) => flow.id);
}
