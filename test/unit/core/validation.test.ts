import * as z from 'zod/mini';
import { ValidationError } from '../../../functions/core/errors';
import { formatPath, validate } from '../../../functions/core/validation';
import { errorThrownBy } from '../helpers';

describe('formatPath', () => {
  it('writes an array index in brackets before a field: [0].email', () => {
    expect(formatPath([0, 'email'])).toBe('[0].email');
  });

  it('writes a nested record as field[index].field: lytics_to_braze_audience[3].external_id', () => {
    expect(formatPath(['lytics_to_braze_audience', 3, 'external_id'])).toBe('lytics_to_braze_audience[3].external_id');
  });

  it('joins nested fields with dots and consecutive indices without them', () => {
    expect(formatPath(['a', 'b', 0, 1, 'c'])).toBe('a.b[0][1].c');
  });

  it('names the whole body when the path is empty', () => {
    expect(formatPath([])).toBe('(body)');
  });
});

describe('validate', () => {
  const audienceSchema = z.object({
    lytics_to_braze_audience: z.array(z.object({ external_id: z.string(), lytics_segments: z.object({ add: z.array(z.string()) }) })),
  });

  it('returns the parsed data when the input is valid', () => {
    const input = { lytics_to_braze_audience: [{ external_id: 'u1', lytics_segments: { add: ['vip'] } }] };

    expect(validate(audienceSchema, input)).toEqual(input);
  });

  it('throws a ValidationError (400, shown to the sender) whose issues name every failing path', () => {
    const input = {
      lytics_to_braze_audience: [
        { external_id: 'u0', lytics_segments: { add: [] } },
        { external_id: 'u1', lytics_segments: { add: [] } },
        { external_id: 'u2', lytics_segments: { add: [] } },
        { lytics_segments: { add: [] } },
        { external_id: 'u4', lytics_segments: { add: [7] } },
      ],
    };

    const error = errorThrownBy(ValidationError, () => validate(audienceSchema, input));

    expect(error.statusCode).toBe(400);
    expect(error.expose).toBe(true);
    expect(error.issues.map((issue) => issue.path)).toEqual(['lytics_to_braze_audience[3].external_id', 'lytics_to_braze_audience[4].lytics_segments.add[0]']);
    expect(error.issues[0]?.message).toMatch(/expected string/);
    expect(error.message).toBe('invalid request body: lytics_to_braze_audience[3].external_id, lytics_to_braze_audience[4].lytics_segments.add[0]');
  });

  it('names what was being validated in the message', () => {
    const error = errorThrownBy(ValidationError, () => validate(z.object({ campaign_slug: z.string() }), {}, 'path'));

    expect(error.message).toBe('invalid path: campaign_slug');
  });

  it('reports a wrong top-level type against the body itself', () => {
    const error = errorThrownBy(ValidationError, () => validate(z.array(z.string()), { not: 'a list' }));

    expect(error.issues.map((issue) => issue.path)).toEqual(['(body)']);
  });

  it('names at most ten failing fields in the message, and lists every issue', () => {
    const error = errorThrownBy(ValidationError, () =>
      validate(
        z.array(z.string()),
        Array.from({ length: 25 }, (_, i) => i),
      ),
    );

    expect(error.issues).toHaveLength(25);
    expect(error.message).toBe('invalid request body: [0], [1], [2], [3], [4], [5], [6], [7], [8], [9] and 15 more');
  });

  it('never echoes the offending value in the message', () => {
    const error = errorThrownBy(ValidationError, () => validate(z.object({ email: z.email() }), { email: 'jane.doe-at-example.com' }));

    expect(error.issues.map((issue) => issue.path)).toEqual(['email']);
    expect(JSON.stringify({ message: error.message, issues: error.issues })).not.toContain('jane.doe');
  });
});
