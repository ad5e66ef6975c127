/** Reads a process definition file: JSON (`.json`) or YAML (`.yaml`, `.yml`). */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** The file is missing, unreadable, or not valid JSON/YAML. */
export class DefinitionFileError extends Error {
  override readonly name = 'DefinitionFileError';
}

export async function loadDefinitionFile(path: string): Promise<unknown> {
  const ext = extname(path).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(ext)) {
    throw new DefinitionFileError(`${path}: a definition file ends in .json, .yaml or .yml`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DefinitionFileError(
      code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(err)})`
    );
  }
  try {
    return ext === '.json' ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown);
  } catch (err) {
    throw new DefinitionFileError(
      `${path}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`
    );
  }
}
