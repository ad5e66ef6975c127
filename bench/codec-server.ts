/**
 * `npm run bench:codec-server`: what one request can cost the codec server (issue 25, item 3). For each case a fresh
 * codec server runs in a child process (so its figures are its own); once it idles, this process sends the case's
 * request and, meanwhile, a `GET /` every 20 ms. Recorded per case: the answer's status and time, the server's CPU
 * time for the request (user + system), its peak memory above idle (peak RSS − idle RSS), and the slowest `GET /`
 * answer during the request (how long other requests waited).
 *
 * Goal: no case over 1 s of CPU or 64 MB above idle. Prints a Markdown table (for RELIABILITY.md) and exits 1 when a
 * case misses the goal.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { startCodecServer } from '../src/codec/codec-server';
import { EncryptionCodec } from '../src/codec/encryption-codec';
import { generateKey, parseInlineKeyRing } from '../src/codec/keyring';

interface Stats {
  cpuMs: number;
  rssMb: number;
  maxRssMb: number;
}

function stats(): Stats {
  const cpu = process.cpuUsage();
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

/** The child: a codec server on a free port; answers `stats` messages with its CPU and memory. */
async function serve(): Promise<void> {
  const keyRing = parseInlineKeyRing(process.env.BENCH_KEYS ?? '', 'bench');
  const server = await startCodecServer({ keyRing, allowEncode: true });
  process.on('message', (message) => {
    if (message === 'stats') process.send?.(stats());
    if (message === 'stop') void server.close().then(() => process.exit(0));
  });
  process.send?.({ port: server.port });
}

interface Case {
  name: string;
  /** Sends the request; resolves with the status. */
  send(port: number): Promise<number>;
}

function post(port: number, path: string, body: string | Buffer): Promise<number> {
  return new Promise((resolvePost, reject) => {
    let status = 0;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST' }, (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => resolvePost(status));
    });
    // A refused body: the server answers, then closes the connection while the rest is still being sent.
    req.on('error', (err) => (status ? resolvePost(status) : reject(err)));
    req.end(body);
  });
}

function getRoot(port: number): Promise<void> {
  return new Promise((resolveGet, reject) => {
    request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      res.resume();
      res.on('end', () => resolveGet());
    })
      .on('error', reject)
      .end();
  });
}

/** Announces `bytes` and sends the first few; resolves with the status the server answers. */
function announceHuge(port: number, bytes: number): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('close', () => resolveStatus(Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0)));
    socket.on('error', reject);
    socket.write(`POST /default/decode HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes}\r\n\r\n{"payloads":[`);
  });
}

/** Streams `bytes` without a Content-Length until the server answers. */
function streamHuge(port: number, bytes: number): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/default/decode', method: 'POST' }, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    });
    // The server may close the connection (after its 413) before this side reads the answer: -1.
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolveStatus(-1) : reject(err)));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const more = (): void => {
      if (sent >= bytes || req.destroyed) return void req.end();
      sent += chunk.length;
      if (req.write(chunk)) setImmediate(more);
      else req.once('drain', more);
    };
    more();
  });
}

function cases(keys: string): Case[] {
  const codec = new EncryptionCodec(parseInlineKeyRing(keys, 'bench'));
  const wire = (p: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });
  const random = (n: number) => randomBytes(n).toString('base64');
  const sealed = (value: unknown) => wire(codec.encodeOne(defaultPayloadConverter.toPayload(value)));
  const body = (payloads: unknown[]) => JSON.stringify({ payloads });
  const oneBig = body([sealed({ blob: random(1_500_000) })]);
  const many = body(Array.from({ length: 1000 }, () => sealed({ blob: random(2400) })));
  const compressible = body(Array.from({ length: 1000 }, (_, i) => sealed({ text: `${i} `.repeat(60_000) })));
  const plainMany = body(
    Array.from({ length: 1000 }, () => wire(defaultPayloadConverter.toPayload({ blob: random(1800) })))
  );
  const braces = `{"payloads":[${Array.from({ length: 1_000_000 }, () => '{}').join(',')}]}`;
  return [
    { name: `one 2 MB payload (${mb(oneBig)} body), decoded`, send: (port) => post(port, '/default/decode', oneBig) },
    { name: `1000 payloads of 3 kB (${mb(many)} body), decoded`, send: (port) => post(port, '/default/decode', many) },
    {
      name: `1000 payloads of 3 kB (${mb(plainMany)} body), encoded`,
      send: (port) => post(port, '/default/encode', plainMany),
    },
    {
      name: `1000 payloads that inflate to 120 kB each (${mb(compressible)} body): over the output cap`,
      send: (port) => post(port, '/default/decode', compressible),
    },
    { name: `one million {} (${mb(braces)} body)`, send: (port) => post(port, '/default/decode', braces) },
    { name: '300 MB announced by Content-Length', send: (port) => announceHuge(port, 300 * 2 ** 20) },
    { name: '300 MB streamed, no Content-Length', send: (port) => streamHuge(port, 300 * 2 ** 20) },
  ];
}

function mb(text: string): string {
  return `${(Buffer.byteLength(text) / 2 ** 20).toFixed(1)} MB`;
}

interface Child {
  port: number;
  stats(): Promise<Stats>;
  stop(): Promise<void>;
}

async function startChild(keys: string): Promise<Child> {
  const child = fork(__filename, ['--serve'], { env: { ...process.env, BENCH_KEYS: keys } });
  const port = await new Promise<number>((resolvePort) =>
    child.once('message', (m) => resolvePort((m as { port: number }).port))
  );
  return {
    port,
    stats: () =>
      new Promise((resolveStats) => {
        child.once('message', (m) => resolveStats(m as Stats));
        child.send('stats');
      }),
    stop: () =>
      new Promise((resolveStop) => {
        child.once('exit', () => resolveStop());
        child.send('stop');
      }),
  };
}

interface Row {
  name: string;
  status: number;
  ms: number;
  cpuMs: number;
  memMb: number;
  getMaxMs: number;
}

async function measure(keys: string, c: Case): Promise<Row> {
  const child = await startChild(keys);
  await getRoot(child.port);
  await new Promise((r) => setTimeout(r, 300));
  const idle = await child.stats();
  let done = false;
  let getMaxMs = 0;
  const poll = (async () => {
    while (!done) {
      const t = performance.now();
      await getRoot(child.port);
      getMaxMs = Math.max(getMaxMs, performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const started = performance.now();
  const status = await c.send(child.port);
  const ms = performance.now() - started;
  done = true;
  await poll;
  const after = await child.stats();
  await child.stop();
  return {
    name: c.name,
    status,
    ms,
    cpuMs: after.cpuMs - idle.cpuMs,
    memMb: Math.max(0, after.maxRssMb - idle.rssMb),
    getMaxMs,
  };
}

async function main(): Promise<void> {
  const keys = `k1:${generateKey()}`;
  const rows: Row[] = [];
  for (const c of cases(keys)) {
    process.stderr.write(`${c.name}...\n`);
    rows.push(await measure(keys, c));
  }
  const lines = [
    '| request | answer | time | server CPU | server memory above idle | slowest `GET /` meanwhile |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.status === -1 ? 'connection closed' : r.status} | ${r.ms.toFixed(0)} ms | ${r.cpuMs.toFixed(0)} ms | ${r.memMb.toFixed(1)} MB | ${r.getMaxMs.toFixed(0)} ms |`
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const missed = rows.filter((r) => r.cpuMs > 1000 || r.memMb > 64);
  if (missed.length) {
    process.stderr.write(`over the goal (1 s CPU, 64 MB): ${missed.map((r) => r.name).join('; ')}\n`);
    process.exitCode = 1;
  }
}

if (process.argv.includes('--serve')) void serve();
else void main();
