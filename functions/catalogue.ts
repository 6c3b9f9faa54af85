/**
 * The one list of partners and their flows. Each partner is a folder under functions/ whose
 * `partner.ts` declares its flows, queues, jobs, settings, secret and sandbox; this file only lists
 * them. The CDK app (lib/) turns each entry into routes, functions, queues with DLQs, alarms and
 * secret grants; the local runner (local/) serves the same routes with the same handler modules,
 * drives the same consumers and stands in for each partner's API with its sandbox answers.
 */
import { braze } from './braze/partner';
import { catalogueIndex } from './core/catalogue-index';
import type { DeliveryQueue, IngressFlow, Job, Partner, S3Job, ScheduledJob } from './core/catalogue-types';
import { lytics } from './lytics/partner';
import { movableInk } from './movable-ink/partner';
import { odp } from './odp/partner';
import { seen } from './seen/partner';
import { sendbird } from './sendbird/partner';

export { type CatalogueEntry, entryFor, flowOf, moduleOf, RouteTemplate, UnknownIdError } from './core/catalogue-index';
export type { AuthScheme, DeliveryQueue, IngressFlow, Job, Partner, S3Job, ScheduledJob } from './core/catalogue-types';

export const partners: readonly Partner[] = [braze, seen, movableInk, sendbird, lytics, odp];

/** The catalogue by id (`catalogue.flow(id)`, `.queue(id)`, `.job(id)`, `.partner(id)`, `.route(method, path)`). */
export const catalogue = catalogueIndex(partners);

export const ingressFlows: readonly IngressFlow[] = catalogue.flows;
export const deliveryQueues: readonly DeliveryQueue[] = catalogue.queues;
export const jobs: readonly Job[] = catalogue.jobs;
/** Jobs started by an upload to the imports bucket. */
export const uploadJobs: readonly S3Job[] = catalogue.uploadJobs;
/** Jobs started by a schedule, run as a loop of steps. */
export const scheduledJobs: readonly ScheduledJob[] = catalogue.scheduledJobs;
