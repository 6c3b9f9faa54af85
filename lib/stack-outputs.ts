/**
 * The names (CloudFormation output keys) under which the stack publishes what operators and
 * `npx bridge` look up with DescribeStacks. They are stable: built from the catalogue id alone
 * (its letters and digits, as every output of the stack names a catalogue entry), never from the
 * construct path's hash, so a reader finds them by name. No imports: the CLI reads them too.
 *
 *   DeliveryQueue<id>Url, DeliveryQueue<id>Arn          a delivery queue
 *   DeliveryQueue<id>DlqUrl, DeliveryQueue<id>DlqArn    its DLQ (the redrive source)
 *   ImportJob<id>FunctionName                           an import job's function
 *   ImportJob<id>DlqUrl, ImportJob<id>DlqArn            its failed imports
 *
 * e.g. the `movable-ink` queue's DLQ URL is `DeliveryQueuemovableinkDlqUrl`.
 */

/** A catalogue id as an output key takes it: letters and digits only (`movable-ink` -> `movableink`). */
export const outputKeyPart = (catalogueId: string): string => catalogueId.replace(/[^A-Za-z0-9]/g, '');

/** What every delivery queue's output key starts with. */
export const DELIVERY_QUEUE_OUTPUT_PREFIX = 'DeliveryQueue';

export const deliveryQueueOutputs = (queueId: string) => {
  const base = `${DELIVERY_QUEUE_OUTPUT_PREFIX}${outputKeyPart(queueId)}`;
  return { queueUrl: `${base}Url`, queueArn: `${base}Arn`, dlqUrl: `${base}DlqUrl`, dlqArn: `${base}DlqArn` } as const;
};

export const importJobOutputs = (jobId: string) => {
  const base = `ImportJob${outputKeyPart(jobId)}`;
  return { functionName: `${base}FunctionName`, dlqUrl: `${base}DlqUrl`, dlqArn: `${base}DlqArn` } as const;
};
