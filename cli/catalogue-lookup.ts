/**
 * The catalogue as the CLI reads it: flows, queues and jobs by id, with the error a user can act on
 * when an id is wrong, and each flow's route filled with its path parameters. No partner, flow or
 * queue is named here: everything comes from functions/catalogue.ts.
 */
import { catalogue, RouteTemplate, UnknownIdError } from '../functions/catalogue';
import type { AuthScheme, DeliveryQueue, IngressFlow, S3Job, ScheduledJob } from '../functions/core/catalogue-types';
import { UsageError } from './io';

/** A catalogue lookup whose unknown id is the user's to fix (exit 2), with an optional hint. */
function lookup<T>(find: () => T, hint?: string): T {
  try {
    return find();
  } catch (error) {
    if (error instanceof UnknownIdError) throw new UsageError(hint ? `${error.message}; ${hint}` : error.message);
    throw error;
  }
}

export const flowById = (id: string): IngressFlow => lookup(() => catalogue.flow(id));
export const queueById = (id: string): DeliveryQueue => lookup(() => catalogue.queue(id));
export const uploadJobById = (id: string): S3Job => lookup(() => catalogue.uploadJob(id), 'scheduled jobs run with bridge sync');
export const scheduledJobById = (id: string): ScheduledJob => lookup(() => catalogue.scheduledJob(id), 'upload jobs run with bridge import');

/** Path parameters of a route template: `/a/{name}/b` -> [`name`]. */
export function pathParameters(flow: IngressFlow): readonly string[] {
  return new RouteTemplate(flow.path).parameters;
}

/**
 * The route's path with its parameters filled. `placeholder` fills a parameter not given (its own
 * name, for a dry run) and says so in `notes`; without it a missing parameter is an error.
 */
export function fillPath(flow: IngressFlow, given: Record<string, string>, placeholder: boolean, notes: string[] = []): string {
  const template = new RouteTemplate(flow.path);
  const names = template.parameters;
  const unknown = Object.keys(given).filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `${flow.id} (${flow.path}) has ${names.length ? `path parameters ${names.join(', ')}` : 'no path parameter'}; not ${unknown.join(', ')}`,
    );
  }
  return template.fill((name) => {
    const value = given[name];
    if (value !== undefined) return value;
    if (!placeholder) throw new UsageError(`${flow.id} needs --param ${name}=<value> (route ${flow.path})`);
    notes.push(`path parameter ${name} not given: used "${name}" (set it with --param ${name}=<value>)`);
    return name;
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
    return catalogue.partner(destination).sandbox?.urlSetting;
  } catch {
    return undefined;
  }
}
