/**
 * The catalogue as the CLI reads it: flows, queues and jobs by id, with the error a user can act on
 * when an id is wrong, and each flow's route filled with its path parameters. No partner, flow or
 * queue is named here: everything comes from functions/catalogue.ts.
 */
import { deliveryQueues, ingressFlows, partnerById, scheduledJobs, uploadJobs } from '../functions/catalogue';
import type { AuthScheme, DeliveryQueue, IngressFlow, S3Job, ScheduledJob } from '../functions/core/catalogue-types';
import { UsageError } from './io';

export function flowById(id: string): IngressFlow {
  const flow = ingressFlows.find((candidate) => candidate.id === id);
  if (!flow) throw new UsageError(`no flow ${id} in the catalogue (flows: ${ingressFlows.map((f) => f.id).join(', ')})`);
  return flow;
}

export function queueById(id: string): DeliveryQueue {
  const queue = deliveryQueues.find((candidate) => candidate.id === id);
  if (!queue) throw new UsageError(`no queue ${id} in the catalogue (queues: ${deliveryQueues.map((q) => q.id).join(', ')})`);
  return queue;
}

export function uploadJobById(id: string): S3Job {
  const job = uploadJobs.find((candidate) => candidate.id === id);
  if (!job)
    throw new UsageError(
      `no upload job ${id} in the catalogue (upload jobs: ${uploadJobs.map((j) => j.id).join(', ') || 'none'}; scheduled jobs run with bridge sync)`,
    );
  return job;
}

export function scheduledJobById(id: string): ScheduledJob {
  const job = scheduledJobs.find((candidate) => candidate.id === id);
  if (!job)
    throw new UsageError(
      `no scheduled job ${id} in the catalogue (scheduled jobs: ${scheduledJobs.map((j) => j.id).join(', ') || 'none'}; upload jobs run with bridge import)`,
    );
  return job;
}

/** Path parameters of a route template: `/a/{name}/b` -> [`name`]. */
export function pathParameters(flow: IngressFlow): string[] {
  return [...flow.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string);
}

/**
 * The route's path with its parameters filled. `placeholder` fills a parameter not given (its own
 * name, for a dry run) and says so in `notes`; without it a missing parameter is an error.
 */
export function fillPath(flow: IngressFlow, given: Record<string, string>, placeholder: boolean, notes: string[] = []): string {
  const names = pathParameters(flow);
  const unknown = Object.keys(given).filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `${flow.id} (${flow.path}) has ${names.length ? `path parameters ${names.join(', ')}` : 'no path parameter'}; not ${unknown.join(', ')}`,
    );
  }
  return flow.path.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
    const value = given[name];
    if (value !== undefined) return encodeURIComponent(value);
    if (!placeholder) throw new UsageError(`${flow.id} needs --param ${name}=<value> (route ${flow.path})`);
    notes.push(`path parameter ${name} not given: used "${name}" (set it with --param ${name}=<value>)`);
    return encodeURIComponent(name);
  });
}

/** The scheme a client without a signing key uses on a route: its first of bearer / query. */
export function tokenScheme(flow: IngressFlow): Exclude<AuthScheme, 'signature'> {
  const scheme = flow.auth.find((a): a is 'bearer' | 'query' => a === 'bearer' || a === 'query');
  if (!scheme) throw new UsageError(`${flow.id} accepts only signed requests (${flow.auth.join(', ')}): the CLI cannot sign them`);
  return scheme;
}

export const authLabels: Record<AuthScheme, string> = {
  bearer: 'Authorization: Bearer',
  query: '?token=',
  basic: 'Authorization: Basic',
  signature: 'signature',
};

/** Every queue a flow's requests may land on: its queue and the lanes it also feeds. */
export function queuesOf(flow: IngressFlow): string[] {
  return [flow.queue, ...(flow.alsoFeeds ?? [])];
}

/** The setting naming a destination's base URL: what a sandboxed request's URL is printed under. */
export function urlSettingOf(destination: string): string | undefined {
  try {
    return partnerById(destination).sandbox?.urlSetting;
  } catch {
    return undefined;
  }
}
