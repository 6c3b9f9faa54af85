import * as z from 'zod/mini';
import { type HttpClient, joinUrl } from './http';

/** The three arrays of a /users/track body; Braze counts all of them toward the 75-object cap (BRAZE_MAX_OBJECTS_PER_TRACK, functions/braze/limits.ts). */
export type TrackKind = 'attributes' | 'events' | 'purchases';
type TrackObject = Record<string, unknown>;

export interface TrackItem {
  kind: TrackKind;
  object: TrackObject;
}

export interface TrackBody {
  attributes?: TrackObject[];
  events?: TrackObject[];
  purchases?: TrackObject[];
}

export interface ObjectError {
  /** Index into the items passed to `track`. */
  itemIndex: number;
  type: string;
}

export interface TrackResult {
  status: number;
  /** Objects Braze refused inside a success answer (partial failure). */
  errors: ObjectError[];
}

/** Builds the request body, keeping for each array position the index of the item it came from. */
export function buildTrackBody(items: readonly TrackItem[]): { body: TrackBody; origin: Record<TrackKind, number[]> } {
  const body: TrackBody = {};
  const origin: Record<TrackKind, number[]> = { attributes: [], events: [], purchases: [] };
  items.forEach((item, index) => {
    const list = body[item.kind] ?? [];
    list.push(item.object);
    body[item.kind] = list;
    origin[item.kind].push(index);
  });
  return { body, origin };
}

const trackResponseSchema = z.looseObject({
  message: z.optional(z.string()),
  errors: z.optional(
    z.array(
      z.looseObject({
        type: z.optional(z.string()),
        input_array: z.optional(z.string()),
        index: z.optional(z.number()),
      }),
    ),
  ),
});

/** Maps Braze's `errors: [{type, input_array, index}]` back to the items of the call. */
export function objectErrorsFromResponse(text: string, origin: Record<TrackKind, number[]>): ObjectError[] {
  // Most answers are `{"message":"success"}`: without an `errors` key there is nothing to read.
  if (!text.includes('"errors"')) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const result = z.safeParse(trackResponseSchema, parsed);
  if (!result.success || !result.data.errors) return [];
  const errors: ObjectError[] = [];
  for (const error of result.data.errors) {
    const kind = error.input_array as TrackKind | undefined;
    const itemIndex = kind && error.index !== undefined ? origin[kind]?.[error.index] : undefined;
    if (itemIndex !== undefined) errors.push({ itemIndex, type: error.type ?? 'unknown' });
  }
  return errors;
}

export interface BrazeClientOptions {
  endpoint: string;
  apiKey: () => Promise<string>;
  http: HttpClient;
  maxObjectsPerRequest: number;
}

/** Braze REST client: one /users/track call per `track`, bearer key fetched from the secret store. */
export class BrazeClient {
  private readonly trackUrl: string;

  constructor(private readonly options: BrazeClientOptions) {
    this.trackUrl = joinUrl(options.endpoint, 'users/track');
  }

  get maxObjectsPerRequest(): number {
    return this.options.maxObjectsPerRequest;
  }

  /**
   * One call; `options.http` is the client the consumer handed its `send` (it holds the retry policy).
   * `options.bulk` marks a backfill with `X-Braze-Bulk: true`, as Braze's own importer sends it
   * (braze-inc/growth-shares-lambda-user-csv-import braze_user_csv_import/app.py; Braze's API
   * guidance: "Add the x-braze-bulk header to bulk uploads").
   */
  async track(items: readonly TrackItem[], options: { deadline?: number; http?: HttpClient; bulk?: boolean } = {}): Promise<TrackResult> {
    if (items.length === 0) return { status: 204, errors: [] };
    if (items.length > this.options.maxObjectsPerRequest) {
      throw new RangeError(`${items.length} objects exceed the ${this.options.maxObjectsPerRequest} allowed per /users/track call`);
    }
    const { body, origin } = buildTrackBody(items);
    const response = await (options.http ?? this.options.http).send(
      {
        method: 'POST',
        url: this.trackUrl,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await this.options.apiKey()}`,
          ...(options.bulk ? { 'x-braze-bulk': 'true' } : {}),
        },
        body: JSON.stringify(body),
      },
      { label: 'braze /users/track', deadline: options.deadline },
    );
    return { status: response.status, errors: objectErrorsFromResponse(response.text, origin) };
  }
}
