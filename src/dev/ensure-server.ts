/** A server to run against: the configured one once it answers, else the embedded dev server (started if need be). */
import { codecEndpointFor } from '../codec/codec-server';
import type { JipperConfig } from '../config/config';
import type { ConnectOptions } from '../config/connect';
import { checkReachable } from '../config/connect';
import type { LogLine } from '../shared/text';
import { DEFAULT_DEV_SERVER_PORT, defaultDbFilename, startDevServer } from './dev-server';
import { findOrInstallTemporalCli } from './temporal-cli';

export interface EnsureServerOptions extends ConnectOptions {
  /** Keep an embedded server that this call starts running after the process exits. Default `true`. */
  detached?: boolean;
}

/**
 * The address of a Temporal server to use. With an address configured, that one, once it answers. Otherwise the
 * embedded dev server on 127.0.0.1:7233 (UI on :8233, state in `.jipper/dev-server.db`): the one already running, or
 * a new one, installing the Temporal CLI first if needed. A new server outlives this process unless `detached` is
 * `false`, so later commands reuse it; its pid is in `.jipper/dev-server-7233.pid`.
 *
 * @throws TemporalUnreachableError when the configured server does not answer.
 */
export async function ensureServer(
  config: JipperConfig,
  log: LogLine = () => undefined,
  options: EnsureServerOptions = {}
): Promise<string> {
  if (config.address !== undefined) {
    await checkReachable(config, config.address, options.connectTimeoutMs);
    return config.address;
  }
  const cli = await findOrInstallTemporalCli({ log });
  // With encryption on, the Web UI decodes payloads through a codec server next to it (`jipper codec-server`).
  const uiCodecEndpoint = config.keyRing ? codecEndpointFor(DEFAULT_DEV_SERVER_PORT + 1000) : undefined;
  const server = await startDevServer({
    cliPath: cli.path,
    port: DEFAULT_DEV_SERVER_PORT,
    namespace: config.namespace,
    dbFilename: defaultDbFilename(),
    detached: options.detached ?? true,
    ...(uiCodecEndpoint ? { uiCodecEndpoint } : {}),
    log,
  });
  if (uiCodecEndpoint && !server.reused) {
    log(
      `payloads are encrypted: the Web UI decodes them through ${uiCodecEndpoint}; run \`jipper codec-server\` to serve it`
    );
  }
  return server.address;
}
