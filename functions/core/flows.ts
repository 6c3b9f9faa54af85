import type { DeliveryQueue, IngressFlow } from './catalogue-types';

/** A handler's own catalogue entry, from its partner's list (so the handler bundle needs no other partner). */
export function flowById(flows: readonly IngressFlow[], id: string): IngressFlow {
  const flow = flows.find((candidate) => candidate.id === id);
  if (!flow) throw new Error(`no flow ${id} in the catalogue`);
  return flow;
}

export function queueDefinition(queues: readonly DeliveryQueue[], id: string): DeliveryQueue {
  const queue = queues.find((candidate) => candidate.id === id);
  if (!queue) throw new Error(`no queue ${id} in the catalogue`);
  return queue;
}
