/**
 * Loading a project's own modules — its `jipper.config.ts` and its job libraries — whether TypeScript or JavaScript,
 * ESM or CommonJS, resolved from the project rather than from where Jipper is installed.
 *
 * The loader is jiti (https://github.com/unjs/jiti): zero dependencies and no native binary (tsx would bring esbuild's
 * per-platform binaries), and it is what ESLint, Tailwind and Nuxt load their TypeScript config files with. It
 * transpiles TypeScript on the fly (cached under `node_modules/.cache/jiti`), never type-checks, and resolves bare
 * package names from the directory it is created for, so `mylib` means the project's `node_modules/mylib`.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

/** Where a module specifier points: a file or directory (resolved), or a package name (resolved by the loader). */
export function specifierTarget(specifier: string, baseDir: string): { kind: 'path' | 'package'; target: string } {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return { kind: 'path', target: resolve(baseDir, specifier) };
  // `src/jobs.ts` without `./`: a path when something is there, else a package name (`mylib`, `@team/jobs`).
  const asPath = resolve(baseDir, specifier);
  if (existsSync(asPath)) return { kind: 'path', target: asPath };
  return { kind: 'package', target: specifier };
}

/**
 * Imports a module: a path relative to `baseDir` (a file, or a directory with an `index.ts`/`index.js` or a
 * `package.json`), or a package name resolved from `resolveFrom` (default `baseDir`). TypeScript loads directly.
 *
 * @throws Error with a one-line cause (see {@link loadErrorCause}) when it cannot be found or fails to load.
 */
export async function importProjectModule(
  specifier: string,
  baseDir: string,
  resolveFrom: string = baseDir
): Promise<{ path: string; module: Record<string, unknown> }> {
  const { kind, target } = specifierTarget(specifier, baseDir);
  if (kind === 'path' && !existsSync(target)) {
    // jiti tries extensions; say "no such file" only when none of them is there either.
    const withExtension = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'].some((ext) => existsSync(`${target}${ext}`));
    if (!withExtension) throw new Error(`no such file or directory: ${target}`);
  }
  if (kind === 'path' && existsSync(target) && statSync(target).isDirectory()) {
    const entries = ['package.json', 'index.ts', 'index.mts', 'index.js', 'index.mjs', 'index.cjs'];
    if (!entries.some((entry) => existsSync(join(target, entry)))) {
      throw new Error(`${target} is a directory with no index.ts, index.js or package.json`);
    }
  }
  const jiti = createJiti(join(resolveFrom, '_'), { interopDefault: false, moduleCache: true });
  const loaded = await jiti.import<unknown>(target);
  const module = typeof loaded === 'object' && loaded !== null ? (loaded as Record<string, unknown>) : {};
  return { path: kind === 'path' ? target : resolvedPackage(jiti, target), module };
}

/** Where a package that loaded was found, for messages; the name itself when the resolver cannot say. */
function resolvedPackage(jiti: { esmResolve(id: string): string }, name: string): string {
  try {
    const resolved = jiti.esmResolve(name);
    return resolved.startsWith('file:') ? fileURLToPath(resolved) : resolved;
  } catch {
    return name;
  }
}

/**
 * The cause of a load failure on one line: the first line of the message (the loader's "Require stack" is dropped),
 * with a parse error's `file:line:col` kept.
 */
export function loadErrorCause(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message.split('\n');
  const stack = lines.findIndex((line) => line.trim() === 'Require stack:');
  const kept = (stack < 0 ? lines : lines.slice(0, stack)).map((line) => line.trim()).filter((line) => line !== '');
  const text = kept.join(' ');
  const name = err instanceof Error && err.name !== 'Error' && !text.startsWith(err.name) ? `${err.name}: ` : '';
  return `${name}${text}`;
}
