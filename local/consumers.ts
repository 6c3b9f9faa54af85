import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryQueue } from '../functions/catalogue';
import type { Config } from '../functions/core/config';
import type { HandlerFactory } from './handlers';
import { lambdaContext } from './lambda-context';
import { EventSourcePoller, type SqsHandler } from './poller';
import type { RunningQueue } from './queues';

/** Test knobs of the consumers (defaults: as the catalogue says, started at once). */
export interface ConsumerHooks {
  /** Override a consumer's batching (e.g. a shorter window). */
  consumerOverrides?: Partial<{ maxBatchingWindowSeconds: number; batchSize: number }>;
  /** false leaves scheduled drains to `drainNow` instead of their timer. */
  schedules?: boolean;
  /** false starts no poller until `startPollers()`, so a test can fill a queue first. */
  startConsumers?: boolean;
}

/** Seconds between a scheduled consumer's runs, as its consumer reads them (0 for an event-source consumer). */
export function intervalSeconds(queue: DeliveryQueue, config: Pick<Config, 'env'>): number {
  return queue.drive.kind === 'schedule' ? Number(config.env[queue.drive.intervalSetting]) : 0;
}

/**
 * The delivery functions and what invokes them: for an event-source queue, a poller playing
 * Lambda's event source mapping; for a scheduled one, a drain run one interval after the last
 * run started, as EventBridge Scheduler would.
 */
export class Consumers implements AsyncDisposable {
  private readonly pollers: EventSourcePoller[] = [];
  private readonly drains = new Map<string, ScheduledDrain>();
  private polling = false;

  constructor(
    private readonly sqs: SQSClient,
    private readonly log: (line: string) => void,
    private readonly hooks: ConsumerHooks,
  ) {}

  /** Builds the consumer of every queue, each with its own function's deps. */
  async add(queues: Iterable<RunningQueue>, handlers: HandlerFactory, config: Config): Promise<void> {
    for (const q of queues) {
      const { consumer, drive, id, destination } = q.definition;
      const handler = await handlers.build<unknown, unknown>({
        entry: q.definition,
        destination,
        overrides: { QUEUE_URL: q.url, DLQ_URL: q.dlqUrl },
      });
      if (drive.kind === 'event-source') {
        const poller = new EventSourcePoller(this.sqs, {
          name: `${id}-delivery`,
          queueUrl: q.url,
          queueArn: q.arn,
          consumer,
          drive: { ...drive, ...this.hooks.consumerOverrides },
          handler: handler as SqsHandler,
          log: this.log,
        });
        this.pollers.push(poller);
      } else {
        const invoke = () => handler({ source: 'local.schedule' }, lambdaContext(`${id}-drain`, consumer.timeoutSeconds, consumer.memoryMb));
        this.drains.set(id, new ScheduledDrain(id, invoke, intervalSeconds(q.definition, config) * 1000, this.log));
      }
    }
  }

  /** Starts the pollers and the schedules, as the hooks allow. */
  start(): void {
    if (this.hooks.startConsumers !== false) this.startPollers();
    if (this.hooks.schedules !== false) for (const drain of this.drains.values()) drain.schedule();
  }

  /** Starts the event-source pollers (once). */
  startPollers(): void {
    if (this.polling) return;
    this.polling = true;
    for (const poller of this.pollers) poller.start();
  }

  /** Runs a scheduled consumer once, now, as its schedule would. */
  drainNow(queueId: string): Promise<unknown> {
    const drain = this.drains.get(queueId);
    if (!drain) throw new Error(`${queueId} has no scheduled consumer`);
    return drain.invoke();
  }

  /** Stops the schedules and the pollers, and waits for what they had started. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const drain of this.drains.values()) drain.cancel();
    await Promise.all(this.pollers.map((p) => p.stop()));
    await Promise.allSettled([...this.drains.values()].map((drain) => drain.settled()));
  }
}

/** A scheduled consumer's runs: the next no sooner than one interval after the last one started (the budget relies on it). */
class ScheduledDrain {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly queueId: string,
    readonly invoke: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
  ) {}

  schedule(delayMs = this.intervalMs): void {
    if (!this.stopped) this.timer = setTimeout(() => this.tick(), delayMs);
  }

  cancel(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  settled(): Promise<unknown> {
    return Promise.allSettled([...this.running]);
  }

  private tick(): void {
    if (this.stopped) return;
    const startedAt = Date.now();
    const run = this.invoke()
      .then((result) => {
        const r = result as { calls?: number; records?: number } | undefined;
        if (r?.calls) this.log(`${this.queueId} drain: ${r.calls} call(s), ${r.records} record(s)`);
      })
      .catch((error: unknown) => this.log(`${this.queueId} drain failed: ${error instanceof Error ? error.name : 'error'}`))
      .finally(() => {
        this.running.delete(run);
        this.schedule(Math.max(0, startedAt + this.intervalMs - Date.now()));
      });
    this.running.add(run);
  }
}
