import { randomBytes } from 'node:crypto';
import { zipSync } from 'fflate';

interface ExportUser {
  external_id: string;
  braze_id: string;
  email?: string;
  first_name?: string;
  custom_attributes?: Record<string, unknown>;
}

/** The `index`th user of a test export: every 10th has no email; `padding` adds that many random (incompressible) characters. */
function exportUser(index: number, padding = 0): ExportUser {
  return {
    external_id: `u-${index}`,
    braze_id: index.toString(16).padStart(24, '0'),
    ...(index % 10 === 9 ? {} : { email: `user${index}@example.com` }),
    first_name: `First${index}`,
    custom_attributes: {
      loyalty_tier: ['gold', 'silver', 'bronze'][index % 3],
      ...(padding
        ? {
            note: randomBytes(Math.ceil(padding / 2))
              .toString('hex')
              .slice(0, padding),
          }
        : {}),
    },
  };
}

/** A Braze segment export as Braze hands it out: a zip of newline-delimited JSON files, `perFile` users each. */
export function exportZip(users: number, perFile: number, padding = 0): Buffer {
  const files: Record<string, Uint8Array> = {};
  for (let start = 0, part = 0; start < users; start += perFile, part++) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(users, start + perFile); i++) lines.push(JSON.stringify(exportUser(i, padding)));
    files[`segment-export-part-${part}.txt`] = new TextEncoder().encode(`${lines.join('\n')}\n`);
  }
  return Buffer.from(zipSync(files, { level: 1 }));
}
