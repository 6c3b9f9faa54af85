import type { LocalRoute } from './gateway';
import { generateOpenApi, serialise } from './openapi';
import type { RunnerState } from './runner';

/** What the OpenAPI route reads: the port and the settings (MAX_BODY_BYTES). */
export type OpenApiView = Pick<RunnerState, 'port' | 'config'>;

/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of every catalogue route (local/openapi.ts), its
 * first server this run's URL and its 413 this run's MAX_BODY_BYTES. Otherwise the same document
 * `npm run openapi` writes to openapi.json. Built on the first request, then kept.
 */
export function openApiRoutes(view: OpenApiView): LocalRoute[] {
  let document: Promise<string> | undefined;
  const route: LocalRoute = async (req, res, url) => {
    if (url.pathname !== '/openapi.json' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    document ??= generateOpenApi({ localUrl: `http://localhost:${view.port}`, maxBodyBytes: view.config.MAX_BODY_BYTES }).then(serialise);
    let body: string;
    try {
      body = await document;
    } catch (error) {
      document = undefined; // a later request tries again
      throw error;
    }
    // Any origin may read it (an OpenAPI viewer in the browser): it holds no secret.
    res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
  return [route];
}
