/**
 * Reads a process definition file: JSON (`.json`) or YAML (`.yaml`, `.yml`). {@link loadDefinitionSource} also keeps
 * the text's layout, so a problem found later at a path such as `steps[2].args.sizeMb` can be shown as `file:line:col`
 * (JSON is YAML, so one parser locates both).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Document } from 'yaml';
import { LineCounter, parse as parseYaml, parseDocument } from 'yaml';
import { embedChildFiles } from './children-file';
import type { ProcessLibrary } from './process-library';
import { loadProcessLibrary } from './process-library';

/** How a definition file is read: with the process libraries its `process: <name>` steps resolve in. */
export interface LoadDefinitionOptions {
  /** Directories of definition files (the config file's `processes`), or a library read already. */
  processes?: readonly string[] | ProcessLibrary | undefined;
}

/** The file is missing, unreadable, or not valid JSON/YAML. */
export class DefinitionFileError extends Error {
  override readonly name = 'DefinitionFileError';
}

/** A 1-based position in a file. */
export interface SourcePosition {
  line: number;
  col: number;
}

export interface DefinitionSource {
  path: string;
  /** The parsed file, not yet checked as a definition. */
  value: unknown;
  /**
   * Where the value at a problem path (`steps[2].parallel[0].args.sizeMb`, `''` for the whole file) is written. A path
   * that does not exist in the file (a missing key) resolves to its nearest written ancestor.
   */
  locate(problemPath: string): SourcePosition;
}

/** Splits a problem path into keys and indexes: `steps[2].args.sizeMb` → `['steps', 2, 'args', 'sizeMb']`. */
export function parseProblemPath(problemPath: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const match of problemPath.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) {
    segments.push(match[1] !== undefined ? Number(match[1]) : (match[2] as string));
  }
  return segments;
}

function checkExtension(path: string): void {
  const ext = extname(path).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(ext)) {
    throw new DefinitionFileError(`${path}: a definition file ends in .json, .yaml or .yml`);
  }
}

function readError(path: string, err: unknown): DefinitionFileError {
  const code = (err as NodeJS.ErrnoException).code;
  return new DefinitionFileError(
    code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(err)})`
  );
}

async function readText(path: string): Promise<string> {
  checkExtension(path);
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw readError(path, err);
  }
}

/**
 * A key indented deeper than the key above it (`    job: b` then `     args: {}`) is the commonest YAML slip, and the
 * parser reports it at the line *above*, as "Nested mappings are not allowed in compact mappings": it reads the two
 * lines as one multi-line key. Its second error (`MULTILINE_IMPLICIT_KEY`) ends on the line at fault; this finds that
 * line's first character and says what is wrong there.
 */
function overIndented(text: string, document: Document): (SourcePosition & { reason: string }) | undefined {
  const multiline = document.errors.find((e) => e.code === 'MULTILINE_IMPLICIT_KEY');
  const end = multiline?.linePos?.[1];
  const start = multiline?.linePos?.[0];
  if (!end || !start || end.line <= start.line) return undefined;
  const line = text.split(/\r?\n/)[end.line - 1] ?? '';
  const col = line.length - line.trimStart().length + 1;
  const key = /^\s*([^:\s]+)\s*:/.exec(line)?.[1];
  return {
    line: end.line,
    col,
    reason: `${key ? `"${key}" is` : 'this line is'} indented more than the line above it; keys of one mapping start at the same column`,
  };
}

function parseText(path: string, text: string, document: Document, lineCounter: LineCounter): unknown {
  const json = extname(path).toLowerCase() === '.json';
  try {
    return json ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown);
  } catch (err) {
    const message = (err as Error).message;
    // JSON.parse gives an offset for some errors only; the YAML parser (JSON is YAML) places the others.
    const offset = json ? /at position (\d+)/.exec(message)?.[1] : undefined;
    const indented = json ? undefined : overIndented(text, document);
    const pos =
      offset !== undefined
        ? lineCounter.linePos(Number(offset))
        : (indented ?? (err as { linePos?: SourcePosition[] }).linePos?.[0] ?? document.errors[0]?.linePos?.[0]);
    const where = pos ? `${path}:${pos.line}:${pos.col}` : path;
    const reason =
      indented?.reason ??
      message
        .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '')
        .replace(/ in JSON at position \d+.*$/s, '')
        .replace(/ at line \d+, column \d+:.*$/s, '')
        .replace(/\s*\n\s*/g, ' ');
    throw new DefinitionFileError(`${where}: not valid ${json ? 'JSON' : 'YAML'}: ${reason}`);
  }
}

/** Reads and parses a definition file, keeping where each value is written. */
export async function loadDefinitionSource(
  path: string,
  options: LoadDefinitionOptions = {}
): Promise<DefinitionSource> {
  const text = await readText(path);
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  const value = withChildren(parseText(path, text, document, lineCounter), path, options);
  const locate = (problemPath: string): SourcePosition => {
    const segments = parseProblemPath(problemPath);
    for (let depth = segments.length; depth > 0; depth--) {
      const node: unknown = document.getIn(segments.slice(0, depth), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) return lineCounter.linePos(range[0]);
    }
    const start = (document.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    return lineCounter.linePos(start);
  };
  return { path, value, locate };
}

/** Reads and parses a definition file (JSON or YAML); it is checked as a definition where it is used. */
export async function loadDefinitionFile(path: string, options: LoadDefinitionOptions = {}): Promise<unknown> {
  return (await loadDefinitionSource(path, options)).value;
}

const fail = (message: string) => new DefinitionFileError(message);

/** The process library of the options: read from its directories, once per load. */
export function processLibraryOf(options: LoadDefinitionOptions): ProcessLibrary | undefined {
  const { processes } = options;
  if (processes === undefined) return undefined;
  return 'files' in processes ? processes : loadProcessLibrary(processes, readRawSync, fail);
}

/** Puts the definitions of the child processes a definition names (by file or by name) in their steps (`process:`). */
function withChildren(value: unknown, path: string, options: LoadDefinitionOptions): unknown {
  let library: ProcessLibrary | undefined;
  const lazy = () => (library ??= processLibraryOf(options));
  return embedChildFiles(value, path, { read: readRawSync, fail, library: lazy });
}

/** {@link loadDefinitionFile}, synchronously: for test files that declare one test per case of a definition. */
export function loadDefinitionFileSync(path: string, options: LoadDefinitionOptions = {}): unknown {
  return withChildren(readRawSync(path), path, options);
}

function readRawSync(path: string): unknown {
  checkExtension(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw readError(path, err);
  }
  const lineCounter = new LineCounter();
  return parseText(path, text, parseDocument(text, { lineCounter }), lineCounter);
}
