/**
 * Where a project keeps its local state: the project root (the nearest `package.json` upward from the working
 * directory) and its git-ignored `.jipper/` folder (the Temporal CLI cache, dev-server databases, sandboxes).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The nearest directory at or above `start` that has a `package.json`. When there is none (a global install run from
 * an unrelated directory) it is the Jipper package's own root.
 */
export function findProjectRoot(start: string = process.cwd()): string {
  for (const from of [resolve(start), __dirname]) {
    let dir = from;
    for (;;) {
      if (existsSync(join(dir, 'package.json'))) return dir;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return resolve(start);
}

/** The project's local state folder: `<project root>/.jipper`. */
export function jipperDir(projectRoot: string = findProjectRoot()): string {
  return join(projectRoot, '.jipper');
}
