/**
 * The one list of partners and their flows. Each partner is a folder under functions/ whose
 * `partner.ts` declares its flows, queues, jobs, settings, secret and sandbox; this file only lists
 * them. The CDK app (lib/) turns each entry into routes, functions, queues with DLQs, alarms and
 * secret grants; the local runner (local/) serves the same routes with the same handler modules,
 * drives the same consumers and stands in for each partner's API with its sandbox answers.
 */
import { braze } from './braze/partner';
import {
  type DeliveryQueue,
  type IngressFlow,
  isScheduledJob,
  isUploadJob,
  type Job,
  type Partner,
  type S3Job,
  type ScheduledJob,
} from './core/catalogue-types';
import { lytics } from './lytics/partner';
import { movableInk } from './movable-ink/partner';
import { odp } from './odp/partner';
import { seen } from './seen/partner';
import { sendbird } from './sendbird/partner';

export type { AuthScheme, DeliveryQueue, IngressFlow, Job, Partner, S3Job, ScheduledJob } from './core/catalogue-types';

export const partners: readonly Partner[] = [braze, seen, movableInk, sendbird, lytics, odp];

export const ingressFlows: readonly IngressFlow[] = partners.flatMap((partner) => partner.flows);
export const deliveryQueues: readonly DeliveryQueue[] = partners.flatMap((partner) => partner.queues);
export const jobs: readonly Job[] = partners.flatMap((partner) => partner.jobs);
/** Jobs started by an upload to the imports bucket. */
export const uploadJobs: readonly S3Job[] = jobs.filter(isUploadJob);
/** Jobs started by a schedule, run as a loop of steps. */
export const scheduledJobs: readonly ScheduledJob[] = jobs.filter(isScheduledJob);

export function partnerById(id: string): Partner {
  const partner = partners.find((candidate) => candidate.id === id);
  if (!partner) throw new Error(`unknown partner ${id}`);
  return partner;
}

export function queueById(id: string): DeliveryQueue {
  const queue = deliveryQueues.find((q) => q.id === id);
  if (!queue) throw new Error(`unknown queue ${id}`);
  return queue;
}
