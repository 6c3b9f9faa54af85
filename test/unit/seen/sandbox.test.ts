import { Readable } from 'node:stream';
import { seenSandboxAnswer, seenSandboxReadBody } from '../../../functions/seen/sandbox';
import { readFixture } from '../helpers';

const post = (path: string, body: unknown) => seenSandboxAnswer({ method: 'POST', path, body });

describe("the SEEN sandbox (npm start's stand-in)", () => {
  it('answers the legacy receivers API 201 for an array of receivers', () => {
    expect(post('/v1/campaigns/onboarding/receivers/', readFixture('seen/receivers.json'))).toMatchObject({ status: 201, body: { created: 3 } });
  });

  it("answers SEEN 2.0's Create Data 201 for one object with a string id, on a project or a workspace URL", () => {
    const example = (readFixture('seen/data-webhook.json') as { body: unknown }).body;

    expect(post('/v1/projects/p-1/data', example)).toMatchObject({ status: 201, body: { id: '12345' } });
    expect(post('/v1/workspaces/w-1/data', example)?.status).toBe(201);
  });

  it('refuses an array with 400, as SEEN 2.0 does ("Arrays are not supported"), and an id that is not a string', () => {
    expect(post('/v1/projects/p-1/data', [{ id: '1' }])).toMatchObject({ status: 400, body: { message: expect.stringContaining('Arrays are not supported') } });
    expect(post('/v1/projects/p-1/data', { id: 1 })?.status).toBe(400);
  });

  it('issues an OAuth2 token for client credentials, and refuses a request without them', () => {
    expect(post('/oauth2/token', { grant_type: 'client_credentials', client_id: 'c', client_secret: '****' })).toMatchObject({
      status: 200,
      body: { access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 },
    });
    expect(post('/oauth2/token', { grant_type: 'client_credentials' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('reads a token request as a form and keeps no client secret', async () => {
    const body = Readable.from([Buffer.from('grant_type=client_credentials&client_id=c-1&client_secret=s%3Dcret')]);

    expect(await seenSandboxReadBody('/oauth2/token', body)).toEqual({ grant_type: 'client_credentials', client_id: 'c-1', client_secret: '****' });
    expect(seenSandboxReadBody('/v1/projects/p-1/data', Readable.from([]))).toBeUndefined();
  });

  it('has no other path', () => {
    expect(post('/v1/projects/p-1/data/extra', {})).toBeUndefined();
    expect(seenSandboxAnswer({ method: 'GET', path: '/v1/projects/p-1/data', body: undefined })).toBeUndefined();
  });
});
