import { consoleRoutes } from './console';
import { dlqRoutes } from './dlq-admin';
import { openApiRoutes } from './openapi-route';
import type { OperatorRoutes } from './runner';

/**
 * The operator's routes of `npm start`, passed to the runner by local/start.ts (and by the tests
 * that use them): the console, the DLQ admin API, the OpenAPI document. Each reads only its part
 * of the runner's state.
 */
export const operatorRoutes: readonly OperatorRoutes[] = [consoleRoutes, dlqRoutes, openApiRoutes];
