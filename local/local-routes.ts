import type { IncomingMessage, ServerResponse } from 'node:http';
import { consoleRoutes } from './console';
import { dlqRoutes } from './dlq-admin';
import { openApiRoutes } from './openapi-route';
import type { Runner } from './runner';

/**
 * A page or API of the local run beside the flows' routes (paths starting with `/_`, and `/`):
 * answers and returns true when the request is its own, returns false to let the next one look.
 */
export type LocalRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/** The operator's routes of `npm start`: the console, the DLQ admin API, the OpenAPI document. */
export function createLocalRoutes(runner: Runner): LocalRoute[] {
  return [...consoleRoutes(runner), ...dlqRoutes(runner), ...openApiRoutes(runner)];
}
