/**
 * The cluster global-setup.ts brought up is what it claims: PostgreSQL and each Temporal service as its own process
 * on its own loopback port, both history hosts in the membership ring, the server configured through variables its
 * config template really reads, the namespace with Jipper's search attributes, SQL visibility answering Jipper's
 * queries, the Web UI showing them, and `status` saying so.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ensureServerBinaries } from '../../src/dev/cluster/binaries';
import { clusterPostgres, clusterStatus } from '../../src/dev/cluster/cluster';
import { psql } from '../../src/dev/cluster/postgres';
import { serverEnvironment, serviceProcesses } from '../../src/dev/cluster/server-env';
import { clusterSettings } from '../../src/dev/cluster/settings';
import { JIPPER_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { testConnection } from '../support/server';
import type { TestConnection } from '../support/server';

const settings = clusterSettings();
const root = join(__dirname, '..', '..');
let conn: TestConnection;

beforeAll(async () => {
  conn = await testConnection();
});
afterAll(async () => conn?.close());

/** Listening TCP sockets (IPv4 and IPv6) from /proc/net/tcp{,6}: local `ip:port` and the socket's inode. */
function listeningSockets(): { address: string; inode: string }[] {
  const sockets: { address: string; inode: string }[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, state, inode] = [fields[1], fields[3], fields[9]];
      if (state !== '0A' || local === undefined || inode === undefined) continue;
      const [hex = '', port = ''] = local.split(':');
      const ip =
        hex.length === 8
          ? (hex.match(/../g) ?? [])
              .reverse()
              .map((b) => parseInt(b, 16))
              .join('.')
          : `[${hex}]`;
      sockets.push({ address: `${ip}:${parseInt(port, 16)}`, inode });
    }
  }
  return sockets;
}

/** The inodes of the sockets a process holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

test('PostgreSQL and each service (two history hosts) run as separate processes, each listening on 127.0.0.1 only', async () => {
  const status = await clusterStatus(settings);
  expect(status.healthy).toBe(true);
  const names = status.services.map((s) => s.name);
  expect(names).toEqual(['frontend', 'history-1', 'history-2', 'matching', 'worker']);
  const pids = [status.postgres, ...status.services].map((c) => c.pid);
  expect(new Set(pids).size).toBe(pids.length);

  // Every socket any of the cluster's processes listens on — the planned ports and any other — is on 127.0.0.1.
  const sockets = listeningSockets();
  const components = [status.postgres, ...status.services, ...(status.ui ? [status.ui] : [])];
  for (const component of components) {
    const inodes = socketInodes(component.pid as number);
    const bound = sockets.filter((s) => inodes.has(s.inode)).map((s) => s.address);
    expect(bound.length).toBeGreaterThan(0);
    expect({ name: component.name, bound: bound.filter((a) => !a.startsWith('127.0.0.1:')) }).toEqual({
      name: component.name,
      bound: [],
    });
    expect(bound).toContain(`127.0.0.1:${component.port}`);
  }
});

test('both history hosts, matching, the frontend and the worker service are in the membership ring', async () => {
  const pg = clusterPostgres(settings);
  if (pg === undefined) throw new Error('PostgreSQL is not installed');
  // cluster_membership: one row per host and role, heartbeating while it lives.
  const rows = await psql(
    pg,
    "SELECT role, rpc_address || ':' || rpc_port FROM cluster_membership WHERE last_heartbeat > now() at time zone 'utc' - interval '30 seconds' ORDER BY 1, 2",
    'temporal'
  );
  const members = rows.trim().split('\n');
  for (const spec of serviceProcesses(settings)) {
    expect(members.some((m) => m.endsWith(`|127.0.0.1:${spec.ports.membership}`))).toBe(true);
  }
});

test("every variable the services are configured with, here and in docker-compose.yml, is one the server's config template reads", async () => {
  const binaries = await ensureServerBinaries(settings.binDir, settings.sharedCacheDir, () => undefined);
  const template = readFileSync(binaries.configTemplate, 'utf8');
  const read = new Set([...template.matchAll(/env "([A-Z0-9_]+)"/g)].map((m) => m[1]));
  for (const spec of serviceProcesses(settings)) {
    const unknown = Object.keys(serverEnvironment(settings, spec, '/dev/null')).filter((name) => !read.has(name));
    expect({ service: spec.name, unknown }).toEqual({ service: spec.name, unknown: [] });
  }
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[]; environment?: Record<string, string> }>;
  };
  for (const [name, service] of Object.entries(compose.services)) {
    if (!(service.command ?? []).includes('--service')) continue;
    const unknown = Object.keys(service.environment ?? {}).filter((key) => !read.has(key));
    expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
  }
});

test("the namespace has Jipper's search attributes, and SQL visibility answers a query on them", async () => {
  const { customAttributes } = await conn.connection.operatorService.listSearchAttributes({
    namespace: conn.namespace,
  });
  for (const key of JIPPER_SEARCH_ATTRIBUTES) expect(Object.keys(customAttributes ?? {})).toContain(key.name);
  const listed = [];
  for await (const wf of conn.client.workflow.list({ query: 'JipperStatus = "reverted"', pageSize: 5 })) {
    listed.push(wf.workflowId);
    if (listed.length >= 1) break;
  }
  // The integration files ran before this one (test/cluster/sequencer.js) and left reverted processes.
  expect(listed.length).toBe(1);
});

test('`cluster status` exits 0 and names every component; bad settings are one line and exit 2', async () => {
  const main = join(root, 'dist', 'dev', 'cluster', 'main.js');
  const ok = await promisify(execFile)(process.execPath, [main, 'status']);
  for (const name of ['postgres', 'frontend', 'history-1', 'history-2', 'matching', 'worker']) {
    expect(ok.stdout).toMatch(new RegExp(`^${name}\\s+up\\s`, 'm'));
  }
  const bad = await promisify(execFile)(process.execPath, [main, 'status'], {
    env: { ...process.env, JIPPER_CLUSTER_BASE_PORT: 'seventeen' },
  }).catch((err: { code: number; stderr: string }) => err);
  expect('code' in bad ? bad.code : 0).toBe(2);
  expect(bad.stderr.trim().split('\n')).toEqual([
    'jipper cluster: invalid cluster settings: JIPPER_CLUSTER_BASE_PORT: must be a whole number',
  ]);
});

(settings.ui === 'off' ? test.skip : test)(
  'the Web UI serves its page and lists Jipper processes by status',
  async () => {
    const status = await clusterStatus(settings);
    expect(status.uiUrl).toBe(`http://127.0.0.1:${settings.ports.ui}`);
    const page = await fetch(`${status.uiUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const query = encodeURIComponent('JipperStatus="reverted"');
    const listed = await fetch(`${status.uiUrl}/api/v1/namespaces/${conn.namespace}/workflows?query=${query}`);
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { executions?: { execution?: { workflowId?: string } }[] };
    expect(body.executions?.length ?? 0).toBeGreaterThan(0);
  }
);
