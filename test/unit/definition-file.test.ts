/**
 * A definition file's syntax errors are reported where the mistake is. The commonest YAML slip, a key indented deeper
 * than the one above it, is reported by the YAML parser one line above, as "Nested mappings are not allowed in compact
 * mappings"; Jipper names the line at fault and says what is wrong with it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDefinitionSource } from '../../src/client/definition-file';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'jipper-definition-file-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function errorOf(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  writeFileSync(file, text);
  return loadDefinitionSource(file).then(
    () => 'no error',
    (err: Error) => err.message.replace(`${dir}/`, '')
  );
}

test.each([
  [
    'a key one column deeper than its siblings',
    'name: x\nsteps:\n  - id: a\n    job: b\n     args: {}\n',
    'deeper.yaml:5:6: not valid YAML: "args" is indented more than the line above it; keys of one mapping start at the same column',
  ],
  [
    'a second step key deeper than the first',
    'name: x\nsteps:\n  - id: a\n    job: b\n  - id: c\n     job: d\n',
    'deeper.yaml:6:6: not valid YAML: "job" is indented more than the line above it; keys of one mapping start at the same column',
  ],
  [
    'a nested arg deeper than its sibling',
    'name: x\nsteps:\n  - id: a\n    job: b\n    args:\n      volume: v\n       size: 1\n',
    'deeper.yaml:7:8: not valid YAML: "size" is indented more than the line above it; keys of one mapping start at the same column',
  ],
])('%s: reported at its own line', async (_what, text, expected) => {
  expect(await errorOf('deeper.yaml', text)).toBe(expected);
});

test('other YAML errors keep the parser’s place and words', async () => {
  expect(await errorOf('tab.yaml', 'name: x\nsteps:\n  - id: a\n\tjob: b\n')).toBe(
    'tab.yaml:4:1: not valid YAML: Tabs are not allowed as indentation'
  );
});
