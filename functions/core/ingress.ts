import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { presentedToken, safeEqual } from './auth';
import { AuthenticationError, BridgeError, PayloadTooLargeError, ValidationError } from './errors';
import { MetricName, MetricUnit } from './observability';
import type { Config } from './config';
import { requireSetting } from './deps';
import type { OutgoingMessage, QueueSender } from './queue';
import type { SecretOwner, SecretStore } from './secrets';
import { validate } from './validation';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export interface IngressRequest<T> {
  body: T;
  rawBody: string;
  pathParameters: Record<string, string | undefined>;
  requestId: string;
  /** Milliseconds the invocation has left (Lambda), for downstream deadlines. */
  remainingMs: () => number;
}

export interface IngressOutcome {
  /** Records durably enqueued. */
  accepted: number;
  /** Records refused individually (the rest of the request still went through). */
  rejected?: { index: number; issues: { path: string; message: string }[] }[];
}

export interface IngressSpec<S extends z.ZodMiniType> {
  flowId: string;
  /** Whose inbound token authenticates the sender. */
  owner: SecretOwner;
  schema: S;
  maxBodyBytes: number;
  handle: (request: IngressRequest<z.infer<S>>) => Promise<IngressOutcome>;
  /** Alternative to the token, e.g. Sendbird's signature header; true means authenticated. */
  verifySignature?: (rawBody: string, headers: Record<string, string | undefined>, secrets: SecretStore) => Promise<boolean>;
}

export interface IngressDeps {
  secrets: SecretStore;
  logger: Logger;
  metrics: Metrics;
}

const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Lowercased header names: API Gateway HTTP APIs already lowercase them; the local runner does too. */
function normalisedHeaders(event: HttpEvent): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * The one middleware stack every ingress function shares, in this order:
 * context + logging, metrics, error handler (outermost onError), body size + raw body,
 * authentication, JSON parse, schema validation; then the flow's handler answers 202.
 */
export function createIngressHandler<S extends z.ZodMiniType>(spec: IngressSpec<S>, deps: IngressDeps) {
  const { logger, metrics, secrets } = deps;

  const errorHandler: middy.MiddlewareObj<HttpEvent, HttpResult> = {
    onError: async (request) => {
      const error = request.error;
      const status = error instanceof BridgeError && error.expose ? error.statusCode : 500;
      metrics.addMetric(status >= 500 ? MetricName.IngressErrors : MetricName.RequestsRefused, MetricUnit.Count, 1);
      if (status >= 500) {
        logger.error('ingress failed', { errorName: error?.name, errorMessage: error instanceof BridgeError ? error.message : undefined });
        request.response = json(500, { error: 'internal error, please retry' });
      } else {
        logger.warn('request refused', { status, reason: error?.message });
        if (error instanceof ValidationError) metrics.addMetric(MetricName.RecordsRejected, MetricUnit.Count, 1);
        request.response = json(status, {
          error: error?.message,
          ...(error instanceof ValidationError && error.issues.length > 0 ? { issues: error.issues } : {}),
        });
      }
    },
  };

  /** What the middlewares learnt of a request, for the handler (middy hands the handler only the event). */
  const parsedBodies = new WeakMap<HttpEvent, { raw: string; body: z.infer<S> }>();

  const rawBodyAuthParseValidate: middy.MiddlewareObj<HttpEvent, HttpResult> = {
    before: async (request) => {
      const event = request.event;
      const raw = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
      if (Buffer.byteLength(raw, 'utf8') > spec.maxBodyBytes) {
        throw new PayloadTooLargeError(`body exceeds ${spec.maxBodyBytes} bytes`);
      }
      const headers = normalisedHeaders(event);
      const token = presentedToken(headers, event.queryStringParameters);
      const expected = (await secrets.get(spec.owner)).inbound_token;
      let authenticated = token !== undefined && expected !== undefined && safeEqual(token, expected);
      if (!authenticated && spec.verifySignature) authenticated = await spec.verifySignature(raw, headers, secrets);
      if (!authenticated) throw new AuthenticationError(token ? 'invalid credentials' : 'missing credentials');
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (cause) {
        throw new ValidationError('body is not valid JSON', [{ path: '(body)', message: 'not valid JSON' }], { cause });
      }
      parsedBodies.set(event, { raw, body: validate(spec.schema, parsed) });
    },
  };

  const handler = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const parsed = parsedBodies.get(event);
    if (!parsed) throw new Error('ingress middleware did not run');
    const outcome = await spec.handle({
      body: parsed.body,
      rawBody: parsed.raw,
      pathParameters: event.pathParameters ?? {},
      requestId: event.requestContext?.requestId ?? context.awsRequestId,
      remainingMs: () => context.getRemainingTimeInMillis(),
    });
    metrics.addMetric(MetricName.RecordsAccepted, MetricUnit.Count, outcome.accepted);
    if (outcome.rejected?.length) metrics.addMetric(MetricName.RecordsRejected, MetricUnit.Count, outcome.rejected.length);
    logger.info('accepted', { accepted: outcome.accepted, rejected: outcome.rejected?.length ?? 0 });
    return json(202, outcome.rejected?.length ? outcome : { accepted: outcome.accepted });
  };

  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(errorHandler)
    .use(rawBodyAuthParseValidate)
    .handler(handler);
}

export interface QueuedIngressSpec<S extends z.ZodMiniType> {
  flowId: string;
  owner: SecretOwner;
  schema: S;
  verifySignature?: IngressSpec<S>['verifySignature'];
  /** What a valid request puts on the flow's queue (no I/O: the transform lives here). */
  toMessages: (request: IngressRequest<z.infer<S>>) => IngressOutcome & { messages: OutgoingMessage[] };
}

/**
 * The usual ingress: authenticate, validate, turn the request into queue messages, enqueue them
 * on QUEUE_URL, answer 202 once SQS has them all.
 */
export function createQueuedIngress<S extends z.ZodMiniType>(
  spec: QueuedIngressSpec<S>,
  deps: IngressDeps & { config: Config; queue: QueueSender },
) {
  const queueUrl = requireSetting(deps.config, 'QUEUE_URL');
  return createIngressHandler(
    {
      flowId: spec.flowId,
      owner: spec.owner,
      schema: spec.schema,
      maxBodyBytes: deps.config.MAX_BODY_BYTES,
      verifySignature: spec.verifySignature,
      handle: async (request) => {
        const { messages, ...outcome } = spec.toMessages(request);
        await deps.queue.sendAll(queueUrl, messages);
        return outcome;
      },
    },
    deps,
  );
}
