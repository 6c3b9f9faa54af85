import { brazeSandboxAnswer, SANDBOX_ARCHIVED_ID, SANDBOX_PAUSED_ID } from '../../../functions/braze/sandbox';

const trigger = (path: string, body: unknown) => brazeSandboxAnswer({ method: 'POST', path, body });

describe("the Braze sandbox's trigger answers (npm start shows what Braze would do)", () => {
  it('answers 201 with a dispatch id, as Braze does on success', () => {
    const answer = trigger('/campaigns/trigger/send', { campaign_id: 'camp-1', recipients: [{ external_user_id: 'u1' }] });

    expect(answer).toMatchObject({ status: 201, body: { message: 'success', dispatch_id: expect.any(String) } });
    expect(answer?.body).not.toHaveProperty('notice');
  });

  it('refuses (400) an email recipient without prioritization, which Braze requires with email, and takes one with it', () => {
    const without = trigger('/canvas/trigger/send', { canvas_id: 'c', recipients: [{ external_user_id: 'u1' }, { email: 'ada@example.com' }] });
    const withIt = trigger('/canvas/trigger/send', { canvas_id: 'c', recipients: [{ email: 'ada@example.com', prioritization: ['identified'] }] });

    expect(without).toMatchObject({ status: 400, body: { message: expect.stringContaining('recipients[1]') } });
    expect(withIt?.status).toBe(201);
  });

  it("answers the sandbox's paused and archived ids with Braze's documented notice: a 201 that sent nothing", () => {
    const paused = trigger('/canvas/trigger/send', { canvas_id: SANDBOX_PAUSED_ID, recipients: [{ external_user_id: 'u1' }] });
    const archived = trigger('/campaigns/trigger/send', { campaign_id: SANDBOX_ARCHIVED_ID, recipients: [{ external_user_id: 'u1' }] });

    expect(paused).toMatchObject({ status: 201, body: { notice: 'The Canvas is paused. Resume the Canvas to ensure trigger requests will take effect.' } });
    expect(archived).toMatchObject({
      status: 201,
      body: { notice: 'The campaign is archived. Unarchive the campaign to ensure trigger requests will take effect.' },
    });
  });
});
