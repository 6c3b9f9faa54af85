/**
 * The one list of partners and their flows. Each partner is a folder under functions/ whose
 * `partner.ts` declares its flows, queues, jobs, settings, secret and sandbox; this file only lists
 * them. The CDK app (lib/) turns each entry into routes, functions, queues with DLQs, alarms and
 * secret grants; the local runner (local/) serves the same routes with the same handler modules,
 * drives the same consumers and stands in for each partner's API with its sandbox answers.
 */
import { braze } from './braze/partner';
import type { DeliveryQueue, IngressFlow, Partner, S3Job } from './core/catalogue-types';
import { lytics } from './lytics/partner';
import { movableInk } from './movable-ink/partner';
import { odp } from './odp/partner';
import { seen } from './seen/partner';
import { sendbird } from './sendbird/partner';

export type { AuthScheme, DeliveryQueue, IngressFlow, Partner, S3Job } from './core/catalogue-types';

export const partners: readonly Partner[] = [braze, seen, movableInk, sendbird, lytics, odp];

export const ingressFlows: readonly IngressFlow[] = partners.flatMap((partner) => partner.flows);
export const deliveryQueues: readonly DeliveryQueue[] = partners.flatMap((partner) => partner.queues);
export const jobs: readonly S3Job[] = partners.flatMap((partner) => partner.jobs);

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
