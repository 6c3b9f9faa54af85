import { catalogue } from '../../functions/catalogue';
import { DEDUPE_TABLE_VARIABLE } from '../../functions/core/dedupe';
import { idOf, minimalConfig, synthStack } from './stack-fixtures';

/** SEEN's two lanes as deployed: the legacy drain with its call ledger, and the 2.0 event-source lane. */
describe('SEEN delivery in AWS', () => {
  const { stack, template } = synthStack(minimalConfig());
  const drain = stack.queues.get('seen-receivers')!;
  const data = stack.queues.get('seen-data')!;

  it('gives the legacy drain the dedupe table for its call ledger: its name, and claim, read, confirm and release only', () => {
    expect(stack.dedupe).toBeDefined();
    const tableRef = { Ref: idOf(stack, stack.dedupe!.table) };

    const variables = template.toJSON().Resources[idOf(stack, drain.consumer.function)].Properties.Environment.Variables;
    expect(variables[DEDUPE_TABLE_VARIABLE]).toEqual(tableRef);
    const policies = template.findResources('AWS::IAM::Policy');
    const drainRole = { Ref: idOf(stack, drain.consumer.function.role!) };
    const statements = Object.values(policies)
      .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([drainRole]))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const dynamo = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')));
    expect(dynamo.flatMap((statement) => [statement.Action].flat()).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem']);
  });

  it('reads the 2.0 lane with an event source of at most 2 invocations at once, which its pacing counts on', () => {
    const definition = catalogue.queue('seen-data');
    expect(definition.drive).toMatchObject({ kind: 'event-source', maxConcurrency: 2 });

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [idOf(stack, data.queue), 'Arn'] },
      FunctionName: { Ref: idOf(stack, data.consumer.function) },
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets the receivers route feed the 2.0 lane, naming its URL', () => {
    const ingress = stack.ingressFunctions.get('seen-receivers')!;

    const variables = template.toJSON().Resources[idOf(stack, ingress.function)].Properties.Environment.Variables;
    expect(variables.QUEUE_URL_SEEN_DATA).toEqual({ Ref: idOf(stack, data.queue) });
  });
});
