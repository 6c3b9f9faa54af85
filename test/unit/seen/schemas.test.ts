import * as z from 'zod/mini';
import { ValidationError } from '../../../functions/core/errors';
import { validate } from '../../../functions/core/validation';
import { campaignSlugSchema, MAX_RECEIVERS_PER_REQUEST, seenCallbackSchema, seenReceiversSchema } from '../../../functions/seen/schemas';
import { errorThrownBy, readFixture } from '../helpers';

/** The paths a ValidationError names, for a validation expected to fail. */
const failingPaths = (run: () => unknown): string[] => errorThrownBy(ValidationError, run).issues.map((issue) => issue.path);

/** The filled-in webhook body, as plain records a test may alter before validating. */
const seedReceivers = (): Record<string, unknown>[] => validate(z.array(z.record(z.string(), z.unknown())), readFixture('seen/receivers.json'), 'fixture');

describe('seenCallbackSchema', () => {
  it('accepts the seed callback example as it is', () => {
    const callback = validate(seenCallbackSchema, readFixture('seen/callback.json'));

    expect(callback.customer_id).toBe('101');
    expect(callback.campaign_slug).toBe('onboarding');
  });

  it('keeps unknown extra fields for campaigns to map', () => {
    const callback = validate(seenCallbackSchema, { customer_id: '101', campaign_slug: 'onboarding', render_id: 'r-1', video_duration_s: 42 });

    expect(callback).toMatchObject({ render_id: 'r-1', video_duration_s: 42 });
  });

  it('accepts a numeric customer_id and keeps it as its string form', () => {
    expect(validate(seenCallbackSchema, { customer_id: 101, campaign_slug: 'onboarding' }).customer_id).toBe('101');
  });

  it('names customer_id and campaign_slug when they are missing', () => {
    expect(failingPaths(() => validate(seenCallbackSchema, { landing_page_url: 'x' }))).toEqual(['customer_id', 'campaign_slug']);
  });

  it('refuses a blank customer_id', () => {
    expect(failingPaths(() => validate(seenCallbackSchema, { customer_id: '   ', campaign_slug: 'onboarding' }))).toEqual(['customer_id']);
  });
});

describe('seenReceiversSchema', () => {
  it('accepts the seed webhook body, filled in', () => {
    const receivers = validate(seenReceiversSchema, seedReceivers());

    expect(receivers).toHaveLength(3);
    expect(receivers[0]).toEqual({ first_name: 'Ada', last_name: 'Lovelace', email: 'ada.lovelace@example.com', customer_id: '65a4f2c1e8b7d90012a3b4c5' });
  });

  it('refuses a receiver without customer_id, naming [0].customer_id', () => {
    const [first, ...others] = seedReceivers();
    const { customer_id: _dropped, ...withoutId } = first ?? {};

    expect(failingPaths(() => validate(seenReceiversSchema, [withoutId, ...others]))).toEqual(['[0].customer_id']);
  });

  it('refuses a bad email, naming its position', () => {
    const body = seedReceivers();
    body[1] = { ...body[1], email: 'grace.hopper-at-example.org' };

    expect(failingPaths(() => validate(seenReceiversSchema, body))).toEqual(['[1].email']);
  });

  it('accepts an empty email, as Liquid renders it for a user without one', () => {
    const body = seedReceivers();
    body[2] = { ...body[2], email: '' };

    expect(validate(seenReceiversSchema, body)[2]?.email).toBe('');
  });

  it('forwards extra personalisation fields as they are', () => {
    expect(validate(seenReceiversSchema, [{ customer_id: 'c1', favourite_team: 'Arsenal' }])[0]).toEqual({ customer_id: 'c1', favourite_team: 'Arsenal' });
  });

  it('refuses an empty list and a body that is not a list', () => {
    expect(failingPaths(() => validate(seenReceiversSchema, []))).toEqual(['(body)']);
    expect(failingPaths(() => validate(seenReceiversSchema, { customer_id: 'c1' }))).toEqual(['(body)']);
  });

  it(`refuses more than ${MAX_RECEIVERS_PER_REQUEST} receivers in one request`, () => {
    const tooMany = Array.from({ length: MAX_RECEIVERS_PER_REQUEST + 1 }, (_, i) => ({ customer_id: `c${i}` }));

    expect(failingPaths(() => validate(seenReceiversSchema, tooMany))).toEqual(['(body)']);
    expect(validate(seenReceiversSchema, tooMany.slice(1))).toHaveLength(MAX_RECEIVERS_PER_REQUEST);
  });
});

describe('campaignSlugSchema', () => {
  it.each(['onboarding', 'winback-2024', 'Q1_promo', '7day'])('accepts %p', (slug) => {
    expect(validate(campaignSlugSchema, slug)).toBe(slug);
  });

  it.each([
    { label: 'an empty slug', slug: '' },
    { label: 'a path traversal', slug: '../admin' },
    { label: 'a slash', slug: 'a/b' },
    { label: 'a space', slug: 'with space' },
    { label: 'a leading dash', slug: '-leading-dash' },
    { label: 'a slug of 129 characters', slug: 'x'.repeat(129) },
    { label: 'percent-encoding', slug: 'caf%C3%A9' },
  ])('refuses $label, since the slug ends up in a URL path', ({ slug }) => {
    expect(() => validate(campaignSlugSchema, slug)).toThrow(ValidationError);
  });
});
