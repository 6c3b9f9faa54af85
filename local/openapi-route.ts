import type { LocalRoute } from './local-routes';
import type { Runner } from './runner';

/** (to be written) */
export function openApiRoutes(_runner: Runner): LocalRoute[] {
  return [];
}
