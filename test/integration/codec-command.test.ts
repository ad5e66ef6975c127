/**
 * The codec server's settings through the built `jipper` command: `jipper dev` with a key ring and
 * `JIPPER_CODEC_TOKEN` serves a codec server that wants the token; `jipper codec-server` refuses in one line to listen
 * beyond loopback without authentication, and an HTTPS certificate without its key.
 */
import { randomUUID } from 'node:crypto';
import { generateKey } from '../../src/codec/keyring';
import { freePort } from '../../src/dev/ports';
import type { Background } from '../support/background';
import { jipperInBackground } from '../support/background';
import { jipper, requireBuiltCli } from '../support/cli';

const TOKEN = `dev-token-${randomUUID()}`;
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
  JIPPER_ENCRYPTION_KEYS: `k1:${generateKey()}`,
  NO_COLOR: '1',
};
let dev: Background | undefined;

beforeAll(() => requireBuiltCli());
afterAll(async () => {
  await dev?.stop();
});

test("jipper dev's codec server wants JIPPER_CODEC_TOKEN when it is set", async () => {
  const port = await freePort();
  const uiPort = await freePort();
  dev = await jipperInBackground(
    ['dev', '--port', String(port), '--ui-port', String(uiPort), '--in-memory'],
    { ...env, JIPPER_CODEC_TOKEN: TOKEN },
    /Press Ctrl-C to stop/
  );
  const codecUrl = /decodes them through (\S+)/.exec(dev.output())?.[1] ?? '';
  expect(codecUrl).toBe(`http://127.0.0.1:${uiPort + 1}`);
  const post = (auth?: string) =>
    fetch(`${codecUrl}/default/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
      body: '{}',
    });
  expect((await post()).status).toBe(401);
  const answer = await post(`Bearer ${TOKEN}`);
  expect([answer.status, await answer.text()]).toEqual([200, '{"payloads":[]}']);
});

test('jipper codec-server refuses, in one line, to listen beyond loopback without authentication', async () => {
  const result = await jipper(['codec-server', '--port', '0', '--host', '0.0.0.0'], env);
  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toMatch(
    /^jipper: the codec server would listen on 0\.0\.0\.0 without authentication, [^\n]*listen on 127\.0\.0\.1$/
  );
});

test('jipper codec-server wants --tls-cert and --tls-key together', async () => {
  const result = await jipper(['codec-server', '--port', '0', '--tls-cert', '/nowhere/cert.pem'], env);
  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toBe('jipper: --tls-cert and --tls-key go together: give both to serve HTTPS');
});
