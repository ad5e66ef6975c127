/**
 * Where a project keeps its local state: the project root and its git-ignored `.jipper/` folder (the Temporal CLI
 * cache, dev-server databases, logs and state, sandboxes). The project is the user's, never Jipper's own install.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { findConfigFile } from './file';

/** The nearest directory at or above `start` that has a `package.json`, if any. */
function nearestPackageDir(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The project root for a working directory: the directory of its config file (`jipper.config.ts`...) when there is
 * one, else the nearest directory with a `package.json`, else the working directory itself.
 */
export function projectRootFor(cwd: string, configFile: string | undefined): string {
  if (configFile !== undefined) return dirname(configFile);
  return nearestPackageDir(cwd) ?? resolve(cwd);
}

/**
 * The project root found from `start` (default: the working directory): see {@link projectRootFor}. A config file
 * that cannot be told apart from another (two in one directory) is ignored here; loading the configuration reports it.
 */
export function findProjectRoot(start: string = process.cwd()): string {
  let configFile: string | undefined;
  try {
    configFile = findConfigFile(start);
  } catch {
    configFile = undefined;
  }
  return projectRootFor(start, configFile);
}

/** The project's local state folder: `<project root>/.jipper`. */
export function jipperDir(projectRoot: string = findProjectRoot()): string {
  return join(projectRoot, '.jipper');
}
