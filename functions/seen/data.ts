import type { Context, SQSEvent } from 'aws-lambda';
import type { DeliveryQueue } from '../core/catalogue-types';
import { createDeliveryConsumer, type DeliveryHandler, type DrainEvent, fedBy } from '../core/delivery-consumer';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { ConfigError, DestinationConfigError } from '../core/errors';
import type { HttpClient } from '../core/http';
import { seenFlows, seenQueues } from './catalogue';
import { fetchToken, type OAuthClient, OAuthTokens } from './oauth';
import { InvocationPacer, requestSpacingMs } from './rate';
import { seenDataMessageSchema } from './schemas';
import { seenSettings } from './settings';
import { parseProjects, projectEndpoint } from './transform';

/**
 * The SEEN API 2.0 delivery (docs.seen.io, "SEEN API 2.0 - Create Data"): one `POST <data URL>` per
 * queued receiver, body one JSON object (SEEN takes no arrays), `201 Created` on success. The data
 * URL is the one SEEN_PROJECTS maps the message's campaign to, looked up here (a message never
 * chooses where a token goes; a campaign no longer mapped is a configuration fault: nothing parked).
 *
 * Auth ("SEEN API 2.0 - Authorization"): `Authorization: Bearer <api_token>`, or, when the SEEN
 * secret holds `oauth_client_id` and `oauth_client_secret`, a client-credentials token from the
 * token endpoint, kept until shortly before it expires and fetched again once on a 401.
 *
 * Rate ("SEEN API accepts up to 100 requests per 10 seconds"): every request, token requests
 * included, is one attempt (no in-process retry: the queue's backoff retries) started through the
 * invocation's pacer (rate.ts), so that at most SEEN_MAX_REQUESTS_PER_10S go in any 10 s across
 * the event source's concurrent invocations.
 */
export function build(deps: Deps, queue: DeliveryQueue): DeliveryHandler {
  const settings = settingsOf(deps, seenSettings);
  const projects = parseProjects(settings.SEEN_PROJECTS);
  const lanes = queue.drive.kind === 'event-source' ? queue.drive.maxConcurrency : 1;
  const pacer = new InvocationPacer(deps.clock, requestSpacingMs(settings.SEEN_MAX_REQUESTS_PER_10S, lanes));
  const tokens = new OAuthTokens(deps.clock);

  /** What goes in the Authorization header, and how to drop it should SEEN refuse it. */
  const authorization = async (client: OAuthClient | undefined, http: HttpClient, deadline: number): Promise<string> => {
    if (client) {
      return tokens.token(client, async () => {
        await pacer.pace();
        return fetchToken(http, client, deadline);
      });
    }
    const secret = await deps.secrets.get('seen');
    if (!secret.api_token) throw new ConfigError('secret seen.api_token is not set (nor seen.oauth_client_id and seen.oauth_client_secret)');
    return secret.api_token;
  };

  const consumer = createDeliveryConsumer(
    {
      queue,
      settings,
      schema: fedBy(seenDataMessageSchema, seenFlows, queue),
      weight: () => 1,
      send: async (messages, call) => {
        const http = call.http.withPolicy({ retries: 0 });
        for (const message of messages) {
          const endpoint = projectEndpoint(message.campaign, { projects, apiUrl: settings.SEEN_API_URL, tokenUrl: settings.SEEN_OAUTH_TOKEN_URL });
          if (!endpoint) throw new ConfigError(`SEEN_PROJECTS maps no data URL for campaign ${message.campaign}`);
          const secret = await deps.secrets.get('seen');
          const client: OAuthClient | undefined =
            secret.oauth_client_id && secret.oauth_client_secret
              ? { tokenUrl: endpoint.tokenUrl, clientId: secret.oauth_client_id, clientSecret: secret.oauth_client_secret }
              : undefined;
          const post = async (token: string) => {
            await pacer.pace();
            await http.send(
              {
                method: 'POST',
                url: endpoint.dataUrl,
                headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
                body: JSON.stringify(message.item),
              },
              { label: 'seen data', deadline: call.deadline },
            );
          };
          const token = await authorization(client, http, call.deadline);
          try {
            await post(token);
          } catch (error) {
            if (!client || !(error instanceof DestinationConfigError) || error.status !== 401) throw error;
            // The token was refused (revoked, or expired early): one new token, one more try.
            tokens.invalidate(client, token);
            const fresh = await authorization(client, http, call.deadline);
            try {
              await post(fresh);
            } catch (again) {
              if (again instanceof DestinationConfigError && again.status === 401) tokens.invalidate(client, fresh);
              throw again;
            }
          }
        }
        return [];
      },
    },
    deps,
  );
  return (event: SQSEvent | DrainEvent, context: Context) => pacer.run(() => consumer(event, context));
}

export const handler = lazyHandler(seenQueues, build);
