/** Temporal frontend addresses: `host:port`, `[v6]:port`. */

/** The frontend port Temporal servers and SDKs use unless told otherwise. */
export const DEFAULT_TEMPORAL_PORT = 7233;

/** Splits `host:port` (or `[v6]:port`); the port defaults to 7233 as in the SDK. */
export function splitAddress(address: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(address);
  if (match?.[1] === undefined) throw new Error(`not a host:port address: ${address}`);
  const host = match[1].replace(/^\[(.*)\]$/, '$1');
  return { host, port: match[2] === undefined ? DEFAULT_TEMPORAL_PORT : Number(match[2]) };
}

/** Whether `host` is this machine's loopback interface: `localhost`, 127.0.0.0/8 or `::1`. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
