import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { basicPassword, bearerToken, matchesAny, queryToken } from './auth';
import { type AuthScheme, type IngressFlow, type InputLimits, laneQueueVariable } from './catalogue-types';
import type { Config } from './config';
import { requireSetting } from './deps';
import { AuthenticationError, BridgeError, ConfigError, type FieldIssue, PayloadTooLargeError, ValidationError } from './errors';
import { checkRecordLimit, parseJsonBody } from './json-input';
import { MetricName, MetricUnit } from './observability';
import { firstOversizeMessage, MAX_SQS_BATCH_BYTES, MESSAGE_ID_ATTRIBUTE, messageId, type OutgoingMessage, type QueueSender } from './queue';
import type { SecretOwner, SecretStore } from './secrets';
import { validate } from './validation';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

interface IngressRequest<T> {
  body: T;
  rawBody: string;
  /** The body exactly as it arrived (what a signature is computed over). */
  rawBytes: Buffer;
  pathParameters: Record<string, string | undefined>;
  requestId: string;
  /** Milliseconds the invocation has left (Lambda), for downstream deadlines. */
  remainingMs: () => number;
}

interface IngressOutcome {
  /** Records durably enqueued. */
  accepted: number;
  /** Records refused individually (the rest of the request still went through). */
  rejected?: { index: number; issues: { path: string; message: string }[] }[];
  /** Valid records deliberately not forwarded (e.g. Movable Ink's known-users-only option). */
  skipped?: number;
}

/** Checks a signature over the raw bytes of the body (e.g. Sendbird's x-sendbird-signature); true means authenticated. */
export type SignatureVerifier = (rawBytes: Buffer, headers: Record<string, string | undefined>, secrets: SecretStore) => Promise<boolean>;

export interface IngressSpec<S extends z.ZodMiniType> {
  flowId: string;
  /** Whose inbound token authenticates the sender. */
  source: SecretOwner;
  /** The schemes the route accepts (its catalogue entry); a credential in any other is refused. */
  auth: readonly AuthScheme[];
  schema: S;
  maxBodyBytes: number;
  /** The route's record and nesting limits (its catalogue entry). */
  limits: InputLimits;
  /** What an empty (or blank) body stands for once authenticated (its catalogue entry's `emptyBody`); unset: 400. */
  emptyBody?: unknown;
  handle: (request: IngressRequest<z.infer<S>>) => Promise<IngressOutcome>;
  /** Required when `auth` includes `signature`. */
  verifySignature?: SignatureVerifier;
}

const schemeNames: Record<AuthScheme, string> = {
  bearer: 'an Authorization: Bearer header',
  query: 'the token query parameter',
  basic: 'an Authorization: Basic header (the token as the password)',
  signature: 'a signature header',
};

export interface IngressDeps {
  secrets: SecretStore;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Issues listed in one answer, at most: a body of many bad values (thousands of refused records,
 * each with a few) must not make an answer bigger than Lambda may return (6 MB). The rest are
 * counted in `issuesNotListed`.
 */
export const MAX_LISTED_ISSUES = 100;

/** The first MAX_LISTED_ISSUES issues, and how many were left out. */
function listedIssues(issues: readonly FieldIssue[]): { issues: FieldIssue[]; issuesNotListed?: number } {
  if (issues.length <= MAX_LISTED_ISSUES) return { issues: [...issues] };
  return { issues: issues.slice(0, MAX_LISTED_ISSUES), issuesNotListed: issues.length - MAX_LISTED_ISSUES };
}

/** Every refused record by index, with its issues until MAX_LISTED_ISSUES are listed in all. */
function listedRejections(rejected: NonNullable<IngressOutcome['rejected']>): { rejected: IngressOutcome['rejected']; issuesNotListed?: number } {
  let budget = MAX_LISTED_ISSUES;
  let notListed = 0;
  const listed = rejected.map(({ index, issues }) => {
    const kept = issues.slice(0, Math.max(budget, 0));
    budget -= kept.length;
    notListed += issues.length - kept.length;
    return { index, issues: kept };
  });
  return { rejected: listed, ...(notListed > 0 ? { issuesNotListed: notListed } : {}) };
}

/** What each refusal is counted as, beside RequestsRefused (the flow's alarms and dashboard read them). */
const refusalMetric: Readonly<Record<number, MetricName>> = {
  400: MetricName.RequestsInvalid,
  401: MetricName.RequestsUnauthorized,
  413: MetricName.RequestsTooLarge,
};

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
 * authentication, JSON parse within the route's nesting limit (no integer beyond 2^53), record
 * limit, schema validation; then the flow's handler answers 202.
 */
function createIngressHandler<S extends z.ZodMiniType>(spec: IngressSpec<S>, deps: IngressDeps) {
  const { logger, metrics, secrets } = deps;
  const accepts = new Set(spec.auth);
  if (accepts.size === 0) throw new Error(`${spec.flowId}: a route must accept at least one auth scheme`);
  if (accepts.has('signature') && !spec.verifySignature) throw new Error(`${spec.flowId}: the signature scheme needs a verifier`);
  const accepted = spec.auth.map((scheme) => schemeNames[scheme]).join(' or ');

  /**
   * Authenticates with the schemes the route accepts; a token sent any other way is refused, not
   * looked at. A token is compared with the current and the previous inbound token (a rotation in
   * progress); one that matches neither has them read afresh once (the store limits how often), so
   * a token rotated a minute ago is not refused for the rest of the cache's max age.
   */
  const authenticate = async (event: HttpEvent, headers: Record<string, string | undefined>, rawBytes: Buffer) => {
    const bearer = bearerToken(headers);
    const basic = basicPassword(headers);
    const query = queryToken(event.queryStringParameters);
    const token = (accepts.has('bearer') ? bearer : undefined) ?? (accepts.has('basic') ? basic : undefined) ?? (accepts.has('query') ? query : undefined);
    if (token !== undefined) {
      if (matchesAny(token, await secrets.inboundTokens(spec.source))) return;
      if (matchesAny(token, await secrets.inboundTokens(spec.source, true))) return;
    }
    if (accepts.has('signature') && (await spec.verifySignature!(rawBytes, headers, secrets))) return;
    if (token === undefined && (bearer !== undefined || basic !== undefined || query !== undefined)) {
      throw new AuthenticationError(`this route takes its credentials in ${accepted}`);
    }
    throw new AuthenticationError(token ? 'invalid credentials' : 'missing credentials');
  };

  const errorHandler: middy.MiddlewareObj<HttpEvent, HttpResult> = {
    onError: async (request) => {
      const error = request.error;
      const status = error instanceof BridgeError && error.expose ? error.statusCode : 500;
      metrics.addMetric(status >= 500 ? MetricName.IngressErrors : MetricName.RequestsRefused, MetricUnit.Count, 1);
      const refusal = refusalMetric[status];
      if (refusal) metrics.addMetric(refusal, MetricUnit.Count, 1);
      if (status >= 500) {
        logger.error('ingress failed', { errorName: error?.name, errorMessage: error instanceof BridgeError ? error.message : undefined });
        request.response = json(500, { error: 'internal error, please retry' });
      } else {
        logger.warn('request refused', { status, reason: error?.message });
        if (error instanceof ValidationError) metrics.addMetric(MetricName.RecordsRejected, MetricUnit.Count, 1);
        request.response = json(status, {
          error: error?.message,
          ...(error instanceof ValidationError && error.issues.length > 0 ? listedIssues(error.issues) : {}),
        });
      }
    },
  };

  /** What the middlewares learnt of a request, for the handler (middy hands the handler only the event). */
  const parsedBodies = new WeakMap<HttpEvent, { raw: string; rawBytes: Buffer; body: z.infer<S> }>();

  const rawBodyAuthParseValidate: middy.MiddlewareObj<HttpEvent, HttpResult> = {
    before: async (request) => {
      const event = request.event;
      const rawBytes = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
      if (rawBytes.length > spec.maxBodyBytes) {
        throw new PayloadTooLargeError(`body exceeds ${spec.maxBodyBytes} bytes`);
      }
      const headers = normalisedHeaders(event);
      await authenticate(event, headers, rawBytes);
      const raw = rawBytes.toString('utf8');
      const parsed = spec.emptyBody !== undefined && raw.trim() === '' ? structuredClone(spec.emptyBody) : parseJsonBody(raw, spec.limits);
      checkRecordLimit(parsed, spec.limits);
      parsedBodies.set(event, { raw, rawBytes, body: validate(spec.schema, parsed) });
    },
  };

  const handler = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const parsed = parsedBodies.get(event);
    if (!parsed) throw new Error('ingress middleware did not run');
    const outcome = await spec.handle({
      body: parsed.body,
      rawBody: parsed.raw,
      rawBytes: parsed.rawBytes,
      pathParameters: event.pathParameters ?? {},
      requestId: event.requestContext?.requestId ?? context.awsRequestId,
      remainingMs: () => context.getRemainingTimeInMillis(),
    });
    metrics.addMetric(MetricName.RecordsAccepted, MetricUnit.Count, outcome.accepted);
    if (outcome.rejected?.length) metrics.addMetric(MetricName.RecordsRejected, MetricUnit.Count, outcome.rejected.length);
    logger.info('accepted', { accepted: outcome.accepted, rejected: outcome.rejected?.length ?? 0, skipped: outcome.skipped ?? 0 });
    return json(202, {
      accepted: outcome.accepted,
      ...(outcome.skipped ? { skipped: outcome.skipped } : {}),
      ...(outcome.rejected?.length ? listedRejections(outcome.rejected) : {}),
    });
  };

  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(errorHandler)
    .use(rawBodyAuthParseValidate)
    .handler(handler);
}

export interface QueuedIngressSpec<S extends z.ZodMiniType> {
  /** The flow's catalogue entry: its id, source (the sender), accepted auth schemes and input limits. */
  flow: Pick<IngressFlow, 'id' | 'source' | 'auth' | 'alsoFeeds' | 'limits' | 'emptyBody'>;
  schema: S;
  verifySignature?: SignatureVerifier;
  /**
   * What a valid request puts on the flow's queue (no I/O: the transform lives here); `lane` names
   * one of the flow's `alsoFeeds` queues to use instead.
   */
  toMessages: (request: IngressRequest<z.infer<S>>) => IngressOutcome & { messages: OutgoingMessage[]; lane?: string };
}

/**
 * The usual ingress: authenticate, validate, turn the request into queue messages, enqueue them
 * on QUEUE_URL, answer 202 once SQS has them all. A message SQS would refuse for its size fails the
 * whole request with 413 before anything is enqueued.
 */
export function createQueuedIngress<S extends z.ZodMiniType>(spec: QueuedIngressSpec<S>, deps: IngressDeps & { config: Config; queue: QueueSender }) {
  const queueUrl = requireSetting(deps.config, 'QUEUE_URL');
  const laneUrls = new Map((spec.flow.alsoFeeds ?? []).map((lane) => [lane, requireSetting(deps.config.env, laneQueueVariable(lane))] as const));
  return createIngressHandler(
    {
      flowId: spec.flow.id,
      source: spec.flow.source,
      auth: spec.flow.auth,
      schema: spec.schema,
      maxBodyBytes: deps.config.MAX_BODY_BYTES,
      limits: spec.flow.limits,
      emptyBody: spec.flow.emptyBody,
      verifySignature: spec.verifySignature,
      handle: async (request) => {
        const { messages: produced, lane, ...outcome } = spec.toMessages(request);
        const target = lane === undefined ? queueUrl : laneUrls.get(lane);
        if (target === undefined) throw new ConfigError(`${spec.flow.id}: no queue URL for lane ${lane} (${laneQueueVariable(lane ?? '')})`);
        // Deterministic ids: the same request retried (after a partial enqueue and a 5xx) yields the
        // same message ids, so the consumers deliver a record once even if both copies reach them together.
        const requestKey = createHash('sha256').update(JSON.stringify(request.pathParameters)).update('\u0000').update(request.rawBytes).digest('hex');
        const messages = produced.map((message, index) => ({
          ...message,
          attributes: { ...message.attributes, [MESSAGE_ID_ATTRIBUTE]: messageId(spec.flow.id, requestKey, index) },
        }));
        const oversize = firstOversizeMessage(messages);
        if (oversize) {
          const { index, bytes } = oversize;
          throw new PayloadTooLargeError(`message ${index} of this request is ${bytes} bytes once queued; at most ${MAX_SQS_BATCH_BYTES}`);
        }
        await deps.queue.sendAll(target, messages);
        return outcome;
      },
    },
    deps,
  );
}
