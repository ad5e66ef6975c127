/**
 * Jest global setup for `npm run test:extended`: what `npm test` does not require, made ready before any test's
 * timeout starts, each with its own limit and a message that says what to install.
 *
 * - The Temporal server (for Temporal's own TLS frontend and API-key authorizer): `JIPPER_TEMPORAL_SERVER`, else the
 *   local cluster's build (src/dev/cluster: the checkout's `.jipper/temporal-server`, the shared cache, or
 *   `go install`, 4–8 minutes the first time; limit `JIPPER_EXTENDED_BUILD_MINUTES`, default 20). Handed to the test
 *   files as `JIPPER_TEMPORAL_SERVER`.
 * - zsh and fish on `PATH`, for the completion tests.
 */
import { execFileSync } from 'node:child_process';
import { findOrBuildTemporalServer } from '../support/tls-server';

const log = (line: string): void => void process.stderr.write(`[extended setup] ${line}\n`);

function requireShells(): void {
  const missing = ['zsh', 'fish'].filter((shell) => {
    try {
      execFileSync(shell, ['-c', 'exit 0'], { stdio: 'ignore', timeout: 10_000 });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(
      `the shell completion tests need ${missing.join(' and ')} on PATH: install them (\`apt-get install -y ${missing.join(' ')}\`; .ci/run does)`
    );
  }
}

async function temporalServer(): Promise<string> {
  const minutes = Number(process.env.JIPPER_EXTENDED_BUILD_MINUTES ?? '20');
  const started = Date.now();
  log('Temporal server: finding or building it (`go install`, 4–8 minutes the first time)');
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `the Temporal server was not built within ${minutes} minutes (JIPPER_EXTENDED_BUILD_MINUTES): build it once with \`npm run cluster -- up\`, or set JIPPER_TEMPORAL_SERVER to a server binary`
          )
        ),
      minutes * 60_000
    );
    timer.unref();
  });
  try {
    const path = await Promise.race([findOrBuildTemporalServer(log), limit]);
    log(`Temporal server: ${path} in ${Math.round((Date.now() - started) / 1000)} s`);
    return path;
  } catch (err) {
    throw new Error(
      `no Temporal server for the extended TLS tests (${err instanceof Error ? err.message : String(err)}): install Go (the version go.temporal.io/server's go.mod asks for) so \`go install\` can build it, or set JIPPER_TEMPORAL_SERVER`,
      { cause: err }
    );
  } finally {
    clearTimeout(timer);
  }
}

export default async function globalSetup(): Promise<void> {
  requireShells();
  process.env.JIPPER_TEMPORAL_SERVER = await temporalServer();
}
