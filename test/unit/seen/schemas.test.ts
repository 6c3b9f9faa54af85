import * as z from 'zod/mini';
import { ValidationError } from '../../../functions/core/errors';
import { validate } from '../../../functions/core/validation';
import {
  campaignSlugSchema,
  MAX_RECEIVERS_PER_REQUEST,
  seenCallbackSchema,
  seenDataReceiverSchema,
  seenProjectsSchema,
  seenReceiverSchema,
  seenReceiversRequestSchema,
} from '../../../functions/seen/schemas';
import { errorThrownBy, readFixture } from '../helpers';

/** The paths a ValidationError names, for a validation expected to fail. */
const failingPaths = (run: () => unknown): string[] => errorThrownBy(ValidationError, run).issues.map((issue) => issue.path);

/** The filled-in webhook body, as plain records a test may alter before validating. */
const seedReceivers = (): Record<string, unknown>[] => validate(z.array(z.record(z.string(), z.unknown())), readFixture('seen/receivers.json'), 'fixture');
/** A fixture's `body`, beside its `_source`. */
const bodyOf = (fixture: string) => (readFixture(fixture) as { body: Record<string, unknown> }).body;

describe('seenCallbackSchema', () => {
  it('accepts the seed callback example as it is', () => {
    const callback = validate(seenCallbackSchema, readFixture('seen/callback.json'));

    expect(callback.customer_id).toBe('101');
    expect(callback.campaign_slug).toBe('onboarding');
  });

  it('accepts what a SEEN 2.0 webhook node sends as Braze asks (id, player_url, email_thumbnail_url), with no campaign_slug', () => {
    const callback = validate(seenCallbackSchema, bodyOf('seen/webhook-node-callback.json'));

    expect(callback).toMatchObject({ id: '101', player_url: expect.stringMatching(/^https:\/\/player\.seen\.io\//) });
    expect(callback.campaign_slug).toBeUndefined();
  });

  it('keeps unknown extra fields for campaigns to map', () => {
    const callback = validate(seenCallbackSchema, { customer_id: '101', campaign_slug: 'onboarding', render_id: 'r-1', video_duration_s: 42 });

    expect(callback).toMatchObject({ render_id: 'r-1', video_duration_s: 42 });
  });

  it('accepts a numeric customer_id or id and keeps it as its string form', () => {
    expect(validate(seenCallbackSchema, { customer_id: 101, campaign_slug: 'onboarding' }).customer_id).toBe('101');
    expect(validate(seenCallbackSchema, { id: 102 }).id).toBe('102');
  });

  it('names customer_id when neither it nor id is there', () => {
    expect(failingPaths(() => validate(seenCallbackSchema, { landing_page_url: 'x' }))).toEqual(['customer_id']);
  });

  it('refuses a blank customer_id', () => {
    expect(failingPaths(() => validate(seenCallbackSchema, { customer_id: '   ', campaign_slug: 'onboarding' }))).toEqual(['customer_id']);
  });

  it('refuses an id that differs from customer_id: which user to update would be a guess', () => {
    expect(failingPaths(() => validate(seenCallbackSchema, { customer_id: '101', id: '102' }))).toEqual(['id']);
    expect(validate(seenCallbackSchema, { customer_id: '101', id: 101 }).id).toBe('101');
  });
});

describe('seenReceiverSchema (legacy receivers API)', () => {
  it('accepts each receiver of the seed webhook body, filled in', () => {
    const receivers = seedReceivers().map((receiver) => validate(seenReceiverSchema, receiver));

    expect(receivers[0]).toEqual({ first_name: 'Ada', last_name: 'Lovelace', email: 'ada.lovelace@example.com', customer_id: '65a4f2c1e8b7d90012a3b4c5' });
  });

  it('refuses a receiver without first_name, which SEEN requires, or with a blank one', () => {
    const [first] = seedReceivers();
    const { first_name: _dropped, ...nameless } = first ?? {};

    expect(failingPaths(() => validate(seenReceiverSchema, nameless))).toEqual(['first_name']);
    expect(failingPaths(() => validate(seenReceiverSchema, { ...first, first_name: '  ' }))).toEqual(['first_name']);
  });

  it('refuses a receiver without customer_id: SEEN echoes it back to name the Braze user', () => {
    const [first] = seedReceivers();
    const { customer_id: _dropped, ...withoutId } = first ?? {};

    expect(failingPaths(() => validate(seenReceiverSchema, withoutId))).toEqual(['customer_id']);
  });

  it('refuses a bad email, a phone not in E.164 and extra_args that is not an object, as SEEN documents them', () => {
    const ada = { customer_id: 'c1', first_name: 'Ada' };

    expect(failingPaths(() => validate(seenReceiverSchema, { ...ada, email: 'ada-at-example.org' }))).toEqual(['email']);
    expect(failingPaths(() => validate(seenReceiverSchema, { ...ada, phone: '4712345678' }))).toEqual(['phone']);
    expect(failingPaths(() => validate(seenReceiverSchema, { ...ada, extra_args: 'gender=f' }))).toEqual(['extra_args']);
    expect(validate(seenReceiverSchema, { ...ada, phone: '+4745860321', extra_args: { miles: 42 } })).toMatchObject({
      phone: '+4745860321',
      extra_args: { miles: 42 },
    });
  });

  it('accepts an empty email, as Liquid renders it for a user without one', () => {
    expect(validate(seenReceiverSchema, { customer_id: 'c1', first_name: 'Ada', email: '' }).email).toBe('');
  });

  it('forwards extra personalisation fields as they are', () => {
    expect(validate(seenReceiverSchema, { customer_id: 'c1', first_name: 'Ada', favourite_team: 'Arsenal' })).toEqual({
      customer_id: 'c1',
      first_name: 'Ada',
      favourite_team: 'Arsenal',
    });
  });
});

describe('seenDataReceiverSchema (SEEN API 2.0)', () => {
  it("accepts SEEN's Create Data example and keeps its fields", () => {
    expect(validate(seenDataReceiverSchema, bodyOf('seen/data-webhook.json'))).toEqual(bodyOf('seen/data-webhook.json'));
  });

  it('takes customer_id where id is missing, and a number as its string form', () => {
    expect(validate(seenDataReceiverSchema, { customer_id: 7, first_name: 'Ada' })).toEqual({ customer_id: '7', first_name: 'Ada' });
  });

  it('names id when neither id nor customer_id is there', () => {
    expect(failingPaths(() => validate(seenDataReceiverSchema, { first_name: 'Ada' }))).toEqual(['id']);
  });
});

describe('seenReceiversRequestSchema', () => {
  it('takes one receiver or an array of them', () => {
    expect(validate(seenReceiversRequestSchema, seedReceivers())).toHaveLength(3);
    expect(validate(seenReceiversRequestSchema, { id: '1' })).toEqual({ id: '1' });
  });

  it('refuses an empty list and a body that is neither an object nor a list', () => {
    expect(failingPaths(() => validate(seenReceiversRequestSchema, []))).toEqual(['(body)']);
    expect(failingPaths(() => validate(seenReceiversRequestSchema, 'c1'))).toEqual(['(body)']);
  });

  it(`refuses more than ${MAX_RECEIVERS_PER_REQUEST} receivers in one request`, () => {
    const tooMany = Array.from({ length: MAX_RECEIVERS_PER_REQUEST + 1 }, (_, i) => ({ customer_id: `c${i}` }));

    expect(failingPaths(() => validate(seenReceiversRequestSchema, tooMany))).toEqual(['(body)']);
    expect(validate(seenReceiversRequestSchema, tooMany.slice(1))).toHaveLength(MAX_RECEIVERS_PER_REQUEST);
  });
});

describe('seenProjectsSchema (SEEN_PROJECTS)', () => {
  it("maps campaign slugs to data URLs such as SEEN's Run tab shows", () => {
    const projects = { onboarding: 'https://next.seen.io/v1/projects/abc123/data', winback: 'https://next.seen.io/v1/workspaces/w-9/data' };

    expect(validate(seenProjectsSchema, projects)).toEqual(projects);
  });

  it('refuses a slug that could not be one, and a URL that is not https (the token goes with every request) unless it is this machine', () => {
    expect(() => validate(seenProjectsSchema, { '../x': 'https://next.seen.io/v1/projects/a/data' })).toThrow(ValidationError);
    expect(failingPaths(() => validate(seenProjectsSchema, { onboarding: 'ftp://next.seen.io/data' }))).toEqual(['onboarding']);
    expect(failingPaths(() => validate(seenProjectsSchema, { onboarding: 'http://next.seen.io/v1/projects/a/data' }))).toEqual(['onboarding']);
    expect(validate(seenProjectsSchema, { onboarding: 'http://127.0.0.1:4010/v1/projects/a/data' })).toEqual({
      onboarding: 'http://127.0.0.1:4010/v1/projects/a/data',
    });
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
