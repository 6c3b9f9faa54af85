import { mergeAudienceRecords, splitAudienceBody } from '../../../functions/lytics/transform';
import { readmeLyticsTemplate } from '../../support/lytics-template';
import { readFixture } from '../helpers';

/** A Lytics audience trigger event (its page's sample) and the profile a js1 template is given. */
const profileOf = (name: string) => (readFixture(`lytics/${name}`) as { event: { data: Record<string, unknown> } }).event.data;

describe('the Lytics webhook template of docs/partners.md, run as Lytics runs it', () => {
  const template = readmeLyticsTemplate();

  it('turns an audience enter event into a record the route takes, named by the Braze external id', () => {
    const record = template(profileOf('webhook-enter.json'));

    expect(record).toEqual({ external_id: 'ABC124ID', lytics_segments: { add: ['first_name_joe'] } });
    expect(splitAudienceBody(record)).toMatchObject({ rejected: [], count: 1 });
  });

  it('turns an exit event of a profile without a Braze external id into a removal named by the email', () => {
    const record = template(profileOf('webhook-exit.json'));

    expect(record).toEqual({ email: 'joseph.flow@example.com', lytics_segments: { remove: ['first_name_joe'] } });
    expect(mergeAudienceRecords(splitAudienceBody(record).valid)).toEqual([
      { kind: 'attributes', object: { email: 'joseph.flow@example.com', lytics_segments: { remove: ['first_name_joe'] } } },
    ]);
  });

  it("makes a body the route takes whole of a batch (the job's Batch Events post an array of records)", () => {
    const batch = [template(profileOf('webhook-enter.json')), template(profileOf('webhook-exit.json'))];

    const { valid, rejected } = splitAudienceBody(batch);

    expect(rejected).toEqual([]);
    expect(valid).toHaveLength(2);
  });

  it('writes a record the route refuses, naming the identifier, for a profile with none of the identifier fields', () => {
    const record = template({ first_name: 'Ann', segment_events: [{ event: 'enter', slug: 'vip' }] });

    expect(splitAudienceBody(record).rejected).toEqual([{ index: 0, issues: [expect.objectContaining({ path: 'external_id' })] }]);
  });
});
