import Ajv2020 from 'ajv/dist/2020';
import { ingressFlows } from '../../functions/catalogue';
import type { OpenApiDocument } from '../../local/openapi';
import type { Runner } from '../../local/runner';
import { post, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

describe('npm start serves the OpenAPI document', () => {
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner({ INBOUND_TOKEN: 'openapi-token' });
  });
  afterAll(() => stopAll(() => runner?.stop()));

  it('at GET /openapi.json: every route, this run as its first server; a real 400 has the documented shape', async () => {
    const response = await fetch(`${runner.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as OpenApiDocument;
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(document.servers[0]!.url).toBe(`http://localhost:${runner.port}`);
    expect(Object.keys(document.paths).sort()).toEqual(ingressFlows.map((flow) => flow.path).sort());

    const flow = ingressFlows[0]!;
    const answer = await post(runner, flow.path.replace(/\{[^}]+\}/g, 'x'), '{"not json');
    expect(answer.status).toBe(400);
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    ajv.addVocabulary(['components']);
    ajv.addSchema({ $id: 'https://bridge.local/openapi.json', components: document.components });
    const conforms = ajv.compile({ $ref: 'https://bridge.local/openapi.json#/components/schemas/ValidationFailure' });
    expect(conforms(answer.body)).toBe(true);
  });
});
