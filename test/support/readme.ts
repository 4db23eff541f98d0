/**
 * Reads code blocks out of the README, so that tests compile and run what the README shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The first ```lang block after the line `heading` (a whole line of the README). */
export function readmeBlock(heading: string, lang: string): string {
  const text = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const at = text.split('\n').findIndex((line) => line.trim() === heading);
  if (at < 0) throw new Error(`README has no heading ${heading}`);
  const rest = text.split('\n').slice(at + 1).join('\n');
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(rest);
  if (!m) throw new Error(`README has no \`\`\`${lang} block after ${heading}`);
  return m[1] + '\n';
}
