/**
 * The tables of docs/ that are generated, never edited by hand: the routes (docs/routes.md), the
 * variables (docs/variables.md) and the URLs to paste (docs/deploy.md), from the catalogue and the
 * settings schemas. A setting's meaning is the doc comment above it in its schema
 * (functions/<partner>/settings.ts, functions/core/config.ts). `npm run docs` writes them between
 * `<!-- begin generated: <name> -->` and `<!-- end generated: <name> -->`; test/unit/docs.test.ts
 * fails when one is stale.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthScheme, IngressFlow, Partner } from '../functions/catalogue';
import { partners } from '../functions/catalogue';
import { envPrefix, secretFields } from '../functions/core/catalogue-types';
import { configSchema } from '../functions/core/config';
import type { SettingsSchema } from '../functions/core/settings';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Each generated block: its name and the file (from the project root) that holds it. */
export const GENERATED_BLOCKS = [
  { name: 'routes', file: 'docs/routes.md', render: routesTable },
  { name: 'variables', file: 'docs/variables.md', render: variablesTables },
  { name: 'urls', file: 'docs/deploy.md', render: urlsTable },
] as const;

const AUTH_TEXT: Record<AuthScheme, string> = { bearer: 'Bearer', query: '`?token=`', basic: 'Basic', signature: 'signature' };

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const row = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
const count = (n: number): string => n.toLocaleString('en-US');

function recordsCell(flow: IngressFlow): string {
  const { maxRecords, recordsField } = flow.limits;
  if (recordsField) return `${count(maxRecords)} in \`${recordsField}\``;
  return maxRecords === 1 ? '1 (the body)' : `${count(maxRecords)} (the body's array)`;
}

/** The routes of every partner: `docs/routes.md`. */
function routesTable(): string {
  const lines = [
    row(['flow', 'partner', 'route', 'auth', 'queue', 'records (413 past it)', 'nesting (400 past it)', 'throttle (rps, burst)', 'what']),
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const partner of partners) {
    for (const flow of partner.flows) {
      const queues = [flow.queue, ...(flow.alsoFeeds ?? [])].map((id) => `\`${id}\``).join(', ');
      const auth = flow.auth.map((scheme) => AUTH_TEXT[scheme]).join(', ');
      lines.push(
        row([
          `\`${flow.id}\``,
          partner.id,
          `\`${flow.method} ${flow.path}\``,
          auth,
          queues,
          recordsCell(flow),
          String(flow.limits.maxDepth),
          `${flow.throttle.rateLimit}, ${flow.throttle.burstLimit}`,
          flow.description,
        ]),
      );
    }
  }
  return lines.join('\n');
}

/** Where each route's URL is pasted, once deployed: `docs/deploy.md`. */
function urlsTable(): string {
  const lines = [row(['flow', 'where to paste', 'URL']), '|---|---|---|'];
  for (const partner of partners) {
    for (const flow of partner.flows) {
      const query = flow.auth.includes('query') ? `?token=<${partner.id} inbound_token>` : '';
      lines.push(row([flow.id, flow.caller, `\`<base>${flow.path}${query}\``]));
    }
  }
  return lines.join('\n');
}

/** The doc comment above each `NAME:` of a schema's source file, on one line. */
export function settingComments(file: string): Map<string, string> {
  const lines = readFileSync(path.join(PROJECT_ROOT, file), 'utf8').split('\n');
  const comments = new Map<string, string>();
  lines.forEach((line, index) => {
    const name = /^\s+([A-Z][A-Z0-9_]+):/.exec(line)?.[1];
    if (!name || !lines[index - 1]?.trim().endsWith('*/')) return;
    let start = index - 1;
    while (start > 0 && !lines[start]!.includes('/**')) start--;
    const text = lines
      .slice(start, index)
      .map((part) => part.replace(/^\s*(\/\*\*|\*\/|\*)?/, '').replace(/\*\/\s*$/, ''))
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
    comments.set(name, text);
  });
  return comments;
}

function defaultText(schema: SettingsSchema, name: string, partner?: Partner): string {
  const def = (schema.def.shape[name] as unknown as { def: { type: string; defaultValue?: unknown } }).def;
  const value = def.type === 'default' ? def.defaultValue : undefined;
  let text = value === undefined ? 'unset' : `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
  if (partner?.sandbox?.urlSetting === name) text = 'unset: the sandbox';
  const deployed = partner?.settings.deployDefaults?.[name];
  if (deployed !== undefined) text += `; deployed: \`${String(deployed)}\``;
  return text;
}

function settingRows(schema: SettingsSchema, file: string, partner?: Partner): string[] {
  const comments = settingComments(file);
  return Object.keys(schema.def.shape).map((name) => {
    const meaning = comments.get(name);
    if (!meaning) throw new Error(`${file}: ${name} has no doc comment (/** ... */ above it): it is the meaning docs/variables.md prints`);
    return row([`\`${name}\``, meaning, defaultText(schema, name, partner)]);
  });
}

/** Every setting a function reads, per partner, and the credential variables of a local run: `docs/variables.md`. */
function variablesTables(): string {
  const header = [row(['variable', 'meaning', 'default']), '|---|---|---|'];
  const sections = [['**Every function**', '', ...header, ...settingRows(configSchema, 'functions/core/config.ts')].join('\n')];
  for (const partner of partners) {
    const optional = new Set(partner.secret.optional ?? []);
    const credentials = secretFields(partner.secret).map((field) =>
      row([
        `\`${envPrefix(partner.id)}_${field.toUpperCase()}\``,
        `local run: the \`${field}\` of the ${partner.id} secret (AWS: \`<stackName>/${partner.id}\`)${optional.has(field) ? ', optional' : ''}`,
        'unset',
      ]),
    );
    sections.push(
      [
        `**${partner.id}** (\`functions/${partner.id}/settings.ts\`): ${partner.description}`,
        '',
        ...header,
        ...settingRows(partner.settings.schema, `functions/${partner.id}/settings.ts`, partner),
        ...credentials,
      ].join('\n'),
    );
  }
  return sections.join('\n\n');
}

const begin = (name: string): string => `<!-- begin generated: ${name} -->`;
const end = (name: string): string => `<!-- end generated: ${name} -->`;

/** `text` with the block `name` replaced by `content`; fails when the markers are missing. */
export function replaceBlock(text: string, name: string, content: string, file: string): string {
  const from = text.indexOf(begin(name));
  const to = text.indexOf(end(name));
  if (from < 0 || to < from) throw new Error(`${file} has no ${begin(name)} ... ${end(name)}`);
  return `${text.slice(0, from)}${begin(name)}\n${content}\n${text.slice(to)}`;
}

/** Each file holding a generated block, as it should read. */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const block of GENERATED_BLOCKS) {
    const current = files.get(block.file) ?? readFileSync(path.join(PROJECT_ROOT, block.file), 'utf8');
    files.set(block.file, replaceBlock(current, block.name, block.render(), block.file));
  }
  return files;
}
