/**
 * The run's Temporal server for test files: jest's global setup puts its address in `TEMPORAL_ADDRESS`.
 *
 * ```ts
 * const { connection, client, close } = await testConnection();
 * afterAll(close);
 * ```
 */
import type { AddressInfo, Socket } from 'node:net';
import { createServer } from 'node:net';
import { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config/config';
import { connectNative } from '../../src/config/connect';

export interface TestConnection {
  /** One native connection, usable by workers and by the client. */
  connection: NativeConnection;
  /** A client on that connection, in the configured namespace (`default` unless `TEMPORAL_NAMESPACE`). */
  client: Client;
  namespace: string;
  close: () => Promise<void>;
}

/** Connects to `process.env.TEMPORAL_ADDRESS` (with any TLS/API-key settings in the environment). */
export async function testConnection(): Promise<TestConnection> {
  const config = await loadConfig({ configFile: false });
  if (config.address === undefined) {
    throw new Error('TEMPORAL_ADDRESS is not set: the jest global setup did not provide a Temporal server');
  }
  const connection = await connectNative(config);
  const client = new Client({ connection, namespace: config.namespace });
  return { connection, client, namespace: config.namespace, close: () => connection.close() };
}

/** A plain TCP server that accepts connections and never speaks: anything but Temporal. */
export async function listenPlainTcp(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      sockets.forEach((socket) => socket.destroy());
    });
  return { port: (server.address() as AddressInfo).port, close };
}
