/**
 * A server to run against: the configured one once it answers; on a loopback address where nothing listens (or with
 * no address configured: 127.0.0.1:7233), the embedded dev server, started there.
 */
import { codecEndpointFor } from '../codec/codec-server';
import type { JipperConfig } from '../config/config';
import type { ConnectOptions } from '../config/connect';
import { checkReachable, isLoopbackHost, probeTemporal, splitAddress, tcpOpen } from '../config/connect';
import type { LogLine } from '../shared/text';
import { DEFAULT_DEV_SERVER_PORT, defaultDbFilename, runningUiUrl, startDevServer } from './dev-server';
import { freePort } from './ports';
import { findOrInstallTemporalCli } from './temporal-cli';

/** Where the embedded dev server runs when no address is configured. */
export const EMBEDDED_ADDRESS = `127.0.0.1:${DEFAULT_DEV_SERVER_PORT}`;

export interface EnsureServerOptions extends ConnectOptions {
  /** Keep an embedded server that this call starts running after the process exits. Default `true`. */
  detached?: boolean;
}

/** The server in use. */
export interface ServerInUse {
  /** `host:port` of its frontend. */
  address: string;
  /** Its Web UI: the configured `webUi`, else the embedded dev server's; `undefined` when unknown. */
  uiUrl: string | undefined;
  /** `true` when this call started it. */
  started: boolean;
}

/** The address the configuration points at: the configured one, else the embedded dev server's. */
export function configuredAddress(config: Pick<JipperConfig, 'address'>): string {
  return config.address ?? EMBEDDED_ADDRESS;
}

/**
 * The Web UI of the server at `address`: the configured `webUi`; else for Temporal Cloud its UI; else, on loopback,
 * the dev server's (from this project's state file, or `port + 1000` when something listens there); else unknown.
 */
export async function webUiOf(
  config: Pick<JipperConfig, 'webUi' | 'projectRoot'>,
  address: string
): Promise<string | undefined> {
  if (config.webUi !== undefined) return config.webUi;
  const { host } = splitAddress(address);
  if (/\.tmprl\.cloud$/i.test(host)) return 'https://cloud.temporal.io';
  return isLoopbackHost(host) ? runningUiUrl(address, config.projectRoot) : undefined;
}

/** Whether Jipper may start its embedded dev server at the configured address: loopback, with no TLS or API key. */
export function mayStartEmbedded(config: Pick<JipperConfig, 'address' | 'connectionOptions'>): boolean {
  const { host } = splitAddress(configuredAddress(config));
  const { tls, apiKey } = config.connectionOptions;
  return isLoopbackHost(host) && (tls === undefined || tls === false) && apiKey === undefined;
}

/**
 * The server to use. When one answers at the configured address (default {@link EMBEDDED_ADDRESS}), that one. When
 * nothing listens there and the address is on loopback (with no TLS or API key), the embedded dev server is started
 * there, installing the Temporal CLI first if needed: its Web UI on `port + 1000` (another free port when that one is
 * taken, printed), its state in the project's `.jipper/dev-server-<port>.db`. A new server outlives this process unless
 * `detached` is `false`, so later commands reuse it; `jipper dev status` shows it and `jipper dev stop` stops it.
 *
 * @throws TemporalUnreachableError when the configured server does not answer and cannot be started here.
 */
export async function ensureServer(
  config: JipperConfig,
  log: LogLine = () => undefined,
  options: EnsureServerOptions = {}
): Promise<ServerInUse> {
  const address = configuredAddress(config);
  const source = config.addressSource ?? 'embedded dev server';
  const timeoutMs = options.connectTimeoutMs;
  const probe = await probeTemporal({ ...config.connectionOptions, address }, timeoutMs, config.addressSource);
  if (probe.kind === 'temporal') {
    return { address, uiUrl: await webUiOf(config, address), started: false };
  }
  if (probe.kind === 'tls') throw probe.error;
  if (probe.kind === 'other' || !mayStartEmbedded(config)) {
    await checkReachable({ ...config, addressSource: source }, address, timeoutMs);
    return { address, uiUrl: await webUiOf(config, address), started: false };
  }
  const { host, port } = splitAddress(address);
  let uiPort = port + 1000;
  if (uiPort > 65535 || (await tcpOpen(host, uiPort, 1000)) !== false) {
    const derived = uiPort;
    uiPort = await freePort(host);
    log(`Temporal dev server: port ${derived} (port + 1000) is taken; the Web UI goes on port ${uiPort}`);
  }
  const cli = await findOrInstallTemporalCli({ projectRoot: config.projectRoot, log });
  // With encryption on, the Web UI decodes payloads through a codec server next to it (`jipper codec-server`).
  const uiCodecEndpoint = config.keyRing ? codecEndpointFor(uiPort) : undefined;
  const server = await startDevServer({
    cliPath: cli.path,
    ip: host,
    port,
    uiPort,
    namespace: config.namespace,
    dbFilename: defaultDbFilename(port, config.projectRoot),
    detached: options.detached ?? true,
    projectRoot: config.projectRoot,
    ...(uiCodecEndpoint ? { uiCodecEndpoint } : {}),
    log,
  });
  if (uiCodecEndpoint && !server.reused) {
    log(
      `payloads are encrypted: the Web UI decodes them through ${uiCodecEndpoint}; run \`jipper codec-server\` to serve it`
    );
  }
  return { address: server.address, uiUrl: config.webUi ?? server.uiUrl, started: !server.reused };
}
