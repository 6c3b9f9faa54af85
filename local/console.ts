import type { LocalRoute } from './local-routes';
import type { Runner } from './runner';

/** (to be written) */
export function consoleRoutes(_runner: Runner): LocalRoute[] {
  return [];
}
