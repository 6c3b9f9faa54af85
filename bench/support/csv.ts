import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';

/** Columns of the generated Braze segment export (a real one has a few dozen; these are typical). */
export const EXPORT_COLUMNS = [
  'external_id',
  'braze_id',
  'first_name',
  'last_name',
  'email',
  'city',
  'country',
  'language',
  'time_zone',
  'created_at',
  'last_session',
  'gender',
  'date_of_birth',
  'phone',
  'email_subscribe',
  'push_subscribe',
  'last_app_version_used',
] as const;

/** The external_id of generated row `index` (0-based): `u-0000042`. Tests map it back with indexOfExternalId. */
const externalIdOf = (index: number): string => `u-${String(index).padStart(7, '0')}`;
export function indexOfExternalId(externalId: string): number | undefined {
  const match = /^u-(\d{7})$/.exec(externalId);
  return match ? Number(match[1]) : undefined;
}

const EPOCH = Date.UTC(2021, 0, 1);

/**
 * Row `index` of a synthetic export (~230 bytes). Every 7th row has a comma in its first name,
 * every 11th a quote in its last name, every 13th a newline in its city, so a good share of fields
 * is quoted; "Réunion" makes the text non-ASCII.
 */
export function exportRow(index: number): string[] {
  const first = index % 7 === 0 ? `Anne, ${index}` : `Ada${index}`;
  const last = index % 11 === 0 ? `O"Brien ${index}` : `Lovelace${index}`;
  const city = index % 13 === 0 ? 'Saint-Denis\nLa Réunion' : index % 2 === 0 ? 'Paris' : 'Lyon';
  const brazeId = (index * 2654435761).toString(16).padStart(24, '0').slice(-24);
  const created = new Date(EPOCH + index * 60_000).toISOString();
  const lastSession = new Date(EPOCH + index * 90_000 + 86_400_000).toISOString();
  const birth = `19${50 + (index % 50)}-${String(1 + (index % 12)).padStart(2, '0')}-${String(1 + (index % 28)).padStart(2, '0')}`;
  const subscription = ['opted_in', 'subscribed', 'unsubscribed'][index % 3]!;
  return [
    externalIdOf(index),
    brazeId,
    first,
    last,
    `user${index}@example.com`,
    city,
    'France',
    'fr',
    'Europe/Paris',
    created,
    lastSession,
    index % 2 === 0 ? 'F' : 'M',
    birth,
    `+3361${String(index).padStart(7, '0')}`,
    subscription,
    subscription,
    `4.${index % 10}.${index % 7}`,
  ];
}

function* rows(count: number): Generator<string[]> {
  yield [...EXPORT_COLUMNS];
  for (let i = 0; i < count; i++) yield exportRow(i);
}

/**
 * Writes a `count`-row export (header first) to `file` as a stream: memory stays flat however
 * many rows. Returns the file's size in bytes.
 */
export async function writeExportCsv(file: string, count: number): Promise<number> {
  await pipeline(Readable.from(rows(count)), stringify(), createWriteStream(file));
  return (await stat(file)).size;
}
