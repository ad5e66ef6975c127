/**
 * Process libraries: directories of definition files (`.yaml`, `.yml`, `.json`) named in the config file
 * (`processes: ['./processes']`), so a step may run a process by its name — `process: create-database` — rather than
 * by file. Each file's `name:` is the name it is known by. The definition-file loader resolves a name to its file and
 * embeds it like a child named by file, so the workflow is unchanged and validation (cycles, depth, params) is the
 * same. See docs/sub-processes.md.
 */
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { isRecord } from '../shared/text';

/** The processes of the configured libraries: each name with the file that defines it. */
export interface ProcessLibrary {
  /** The directories read, for messages. */
  dirs: readonly string[];
  files: ReadonlyMap<string, string>;
}

const DEFINITION_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Whether a `process:` value names a file (a path, or a definition file's name) rather than a library's process. */
export function namesFile(process: string): boolean {
  return /[/\\]/.test(process) || DEFINITION_EXTENSIONS.includes(extname(process).toLowerCase());
}

/**
 * Reads the definition files of `dirs` (not their subdirectories) with `read`, and indexes them by `name`. Throws an
 * error made by `fail`, in one line, for a directory that cannot be read, a file without a name, or a name two files
 * give.
 */
export function loadProcessLibrary(
  dirs: readonly string[],
  read: (path: string) => unknown,
  fail: (message: string) => Error
): ProcessLibrary {
  const files = new Map<string, string>();
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw fail(`process library ${dir}: ${code === 'ENOENT' ? 'no such directory' : `cannot read (${code})`}`);
    }
    for (const entry of entries) {
      if (!DEFINITION_EXTENSIONS.includes(extname(entry).toLowerCase())) continue;
      const file = join(dir, entry);
      const value = read(file);
      const name = isRecord(value) ? value.name : undefined;
      if (typeof name !== 'string' || !name) throw fail(`${file}: a process in a library needs a name (name: ...)`);
      const other = files.get(name);
      if (other !== undefined) throw fail(`${file}: process "${name}" is also defined by ${other}`);
      files.set(name, file);
    }
  }
  return { dirs, files };
}

/** The file of the process `name`, or an error message in one line (with the known names). */
export function processFile(library: ProcessLibrary | undefined, name: string): string | { problem: string } {
  if (!library?.dirs.length) {
    return {
      problem: `"${name}" is not a file path (./${name}.yaml) and no process library is configured (processes: in the config file)`,
    };
  }
  const file = library.files.get(name);
  if (file !== undefined) return file;
  const known = [...library.files.keys()].sort();
  return {
    problem: `no process "${name}" in the process libraries (${library.dirs.join(', ')}); known: ${known.join(', ') || '(none)'}`,
  };
}
