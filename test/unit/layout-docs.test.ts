/**
 * The layout docs do not drift from the tree: README's "Where things live" names every folder of src/ and every
 * top-level folder of the repository, and docs/design.md's entry-point table names every entry of package.json's
 * "exports". A new room or entry without its line fails here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** The text of a markdown section, from its heading to the next heading of the same level. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section "${heading}"`);
  const level = heading.split(' ')[0];
  const next = markdown.indexOf(`\n${level} `, start + heading.length + 1);
  return markdown.slice(start, next < 0 ? undefined : next);
}

/** Folders in `dir` (relative to the root), less what git ignores and hidden ones. */
function folders(dir: string): string[] {
  const ignored = new Set(['node_modules', 'dist', 'coverage', 'test-results']);
  return readdirSync(join(root, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !ignored.has(e.name))
    .map((e) => (dir === '.' ? `${e.name}/` : `${dir}/${e.name}/`));
}

test('README\'s "Where things live" names every folder of src/ and every top-level folder', () => {
  const where = section(read('README.md'), '## Where things live');
  const missing = [...folders('.'), ...folders('src')].filter((f) => !where.includes(`\`${f}`));
  expect(missing).toEqual([]);
});

test("docs/design.md's entry-point table names every entry of package.json's exports", () => {
  const design = section(read('docs/design.md'), '## Rooms and doors');
  const exports = Object.keys((JSON.parse(read('package.json')) as { exports: Record<string, unknown> }).exports);
  const entries = exports.filter((e) => e !== './package.json').map((e) => `jipper${e.slice(1)}`);
  const missing = entries.filter((entry) => !design.includes(`| \`${entry}\``));
  expect(missing).toEqual([]);
});
