/**
 * The Chromium the Web UI tests drive with playwright-core, found or unpacked by the jest global setup (never inside a
 * test's timeout) and handed to the test files as `JIPPER_TEST_CHROMIUM`:
 *
 * 1. `JIPPER_TEST_CHROMIUM`, when set (a path to a Chromium or Chrome executable);
 * 2. a system Chromium: `chromium`, `chromium-browser`, `google-chrome` on `PATH`;
 * 3. the one inside the `@sparticuz/chromium` package (a devDependency, so `npm install` brings it): unpacked from
 *    the package into the temporary directory on first use, about 2 s.
 *
 * ```ts
 * const browser = await chromium.launch({ executablePath: testChromium(), args: CHROMIUM_ARGS });
 * ```
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Headless, no sandbox (CI runs as root), nothing fetched in the background. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-zygote',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A system Chromium on `PATH`, if there is one. */
export function systemChromium(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    for (const name of SYSTEM_NAMES) {
      const candidate = join(dir, name);
      if (executable(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * Finds the browser (see the module comment), unpacking the package's one when needed.
 *
 * @throws Error with what to install, when none can be had.
 */
export async function findChromium(log: (line: string) => void): Promise<{ path: string; source: string }> {
  const fromEnv = process.env.JIPPER_TEST_CHROMIUM;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`JIPPER_TEST_CHROMIUM=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: 'JIPPER_TEST_CHROMIUM' };
  }
  const system = systemChromium();
  if (system) return { path: system, source: 'PATH' };
  const started = Date.now();
  log('Chromium: none on PATH; unpacking the one in @sparticuz/chromium');
  try {
    const { default: packaged } = await import('@sparticuz/chromium');
    const path = await packaged.executablePath();
    log(`Chromium: ${path} (@sparticuz/chromium) in ${Date.now() - started} ms`);
    return { path, source: '@sparticuz/chromium' };
  } catch (err) {
    throw new Error(
      `no Chromium for the Web UI tests: none on PATH, and @sparticuz/chromium could not be unpacked (${String(err)}); run \`npm install\`, or install Chromium (\`apt-get install -y chromium\`), or set JIPPER_TEST_CHROMIUM`,
      { cause: err }
    );
  }
}

/** The browser the global setup found, for test files. */
export function testChromium(): string {
  const path = process.env.JIPPER_TEST_CHROMIUM;
  if (!path) {
    throw new Error(
      'JIPPER_TEST_CHROMIUM is not set: the jest global setup found no Chromium (see test/support/browser.ts)'
    );
  }
  return path;
}
