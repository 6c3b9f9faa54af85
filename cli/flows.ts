/** `bridge flows`: the catalogue's flows (route, auth, queues), queues and jobs. */
import { deliveryQueues, ingressFlows, jobs } from '../functions/catalogue';
import { isScheduledJob } from '../functions/core/catalogue-types';
import { authLabels, pathParameters, queueById, queuesOf } from './catalogue-lookup';
import { type CliIo, lineWriter, prettyJson } from './io';

export function flowsCommand(options: { json?: boolean }, io: CliIo): void {
  const line = lineWriter(io.out);
  const flows = ingressFlows.map((flow) => ({
    id: flow.id,
    source: flow.source,
    route: `${flow.method} ${flow.path}`,
    pathParameters: pathParameters(flow),
    auth: [...flow.auth],
    queues: queuesOf(flow).map((id) => ({ id, destination: queueById(id).destination })),
    description: flow.description,
  }));
  const queues = deliveryQueues.map((q) => ({ id: q.id, destination: q.destination, lane: q.lane, drive: q.drive.kind, maxReceiveCount: q.maxReceiveCount }));
  const jobList = jobs.map((job) =>
    isScheduledJob(job)
      ? {
          id: job.id,
          destination: job.destination,
          trigger: `schedule (${job.trigger.scheduleSetting})`,
          command: `bridge sync ${job.id}`,
          description: job.description,
        }
      : {
          id: job.id,
          destination: job.destination,
          trigger: `upload ${job.trigger.prefix}*${job.trigger.suffix}`,
          command: `bridge import ${job.id} <file>${Object.keys(job.localOptions ?? {})
            .map((name) => ` [--${name} <value>]`)
            .join('')}`,
          description: job.description,
        },
  );
  if (options.json) {
    line(prettyJson({ flows, queues, jobs: jobList }));
    return;
  }

  const pad = (values: string[]) => Math.max(...values.map((v) => v.length));
  const idWidth = pad(flows.map((f) => f.id));
  const routeWidth = pad(flows.map((f) => f.route));
  line('flows (bridge transform <flow> <file>, bridge send <flow> <file>):');
  for (const f of flows) {
    const into = f.queues.map((q) => `${q.id} (${q.destination})`).join(', ');
    line(`  ${f.id.padEnd(idWidth)}  ${f.route.padEnd(routeWidth)}  auth: ${f.auth.map((a) => authLabels[a]).join(' | ')}  -> ${into}`);
  }
  line('queues (bridge dlq list|peek|redrive <queue>):');
  const queueWidth = pad(queues.map((q) => q.id));
  for (const q of queues)
    line(
      `  ${q.id.padEnd(queueWidth)}  to ${q.destination}, ${q.lane}, ${q.drive === 'schedule' ? 'scheduled drain' : 'event source'}, ` +
        `DLQ after ${q.maxReceiveCount} receives`,
    );
  if (jobList.length > 0) {
    line('jobs:');
    const jobWidth = pad(jobList.map((j) => j.id));
    for (const j of jobList) line(`  ${j.id.padEnd(jobWidth)}  ${j.trigger}: ${j.command}`);
  }
}
