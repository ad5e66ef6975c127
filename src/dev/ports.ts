/** Free loopback ports for servers this project starts (test servers, the cluster, the bench). */
import { createServer } from 'node:net';

function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, host, () => server.close(() => resolvePort(true)));
  });
}

function osAssignedPort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/**
 * Ports {@link freePort} picks from: below Linux's ephemeral range (32768–60999), where the OS assigns the ports of
 * outgoing connections and of listeners on port 0 — such as the dev server's own internal services, which would
 * otherwise sometimes take a port picked for its Web UI between the pick and the UI's start.
 */
const PICK_FROM = 20_000;

const PICK_TO = 32_000;

/** A port nothing listens on right now on `host` (default 127.0.0.1), outside the OS's ephemeral range if it can. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = PICK_FROM + Math.floor(Math.random() * (PICK_TO - PICK_FROM));
    if (await portIsFree(port, host)) return port;
  }
  return osAssignedPort(host);
}
