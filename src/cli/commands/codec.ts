/**
 * `jipper codec-server`: serves Temporal's codec-server protocol with the configured key ring, so the Web UI (and the
 * `temporal` CLI's `--codec-endpoint`) show encrypted payloads decrypted. `jipper keys add <file>`: makes or rotates a
 * key ring file.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import type { CodecServerOptions as StartOptions } from '../../codec/codec-server';
import { DEFAULT_CODEC_PORT, startCodecServer } from '../../codec/codec-server';
import { KeyRingError, addKey, useKeyInFile } from '../../codec/keyring';
import { keyRingConfigError, registerKeysWrap } from './keys-wrap';
import { ConfigError } from '../../config/errors';
import { oneLine } from '../../shared/text';
import { action, cliConfig } from '../context';
import { UsageError } from '../errors';
import { err, out, printJson, printJsonLine } from '../io';
import { codecToken } from './codec-token';
import { untilSignal } from './servers';

const portSchema = z.coerce.number().int().min(0).max(65535);

function port(value: string): number {
  const parsed = portSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('expected a port number (0-65535)');
  return parsed.data;
}

function origin(value: string, previous: string[] | undefined): string[] {
  const parsed = z.url().safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('expected an origin such as http://127.0.0.1:8233');
  return [...(previous ?? []), new URL(parsed.data).origin];
}

/** The origins a Web UI at `base` calls from: its own, and its twin under `localhost` / `127.0.0.1`. */
export function uiOrigins(base: string): string[] {
  const url = new URL(base);
  const origins = [url.origin];
  const twin = url.hostname === '127.0.0.1' ? 'localhost' : url.hostname === 'localhost' ? '127.0.0.1' : undefined;
  if (twin !== undefined) origins.push(`${url.protocol}//${twin}${url.port ? `:${url.port}` : ''}`);
  return origins;
}

interface CodecServerOptions {
  port: number;
  host: string;
  origin?: string[];
  json?: boolean;
  allowEncode?: boolean;
  jwksUrl?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  jwtClaim?: string;
  tlsCert?: string;
  tlsKey?: string;
}

function httpUrl(value: string): string {
  const parsed = z.url({ protocol: /^https?$/ }).safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('expected an http(s) URL');
  return parsed.data;
}

/** The access and transport options of `jipper codec-server`, checked: files read, pairs complete. */
function serverAccess(options: CodecServerOptions): Pick<StartOptions, 'jwt' | 'tls' | 'allowEncode'> {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together: give both to serve HTTPS');
  }
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new UsageError(`${flag} ${file}: ${oneLine(error)}`);
    }
  };
  const tls =
    options.tlsCert !== undefined && options.tlsKey !== undefined
      ? { cert: read('--tls-cert', options.tlsCert), key: read('--tls-key', options.tlsKey) }
      : undefined;
  if (options.jwksUrl === undefined && (options.jwtIssuer ?? options.jwtAudience ?? options.jwtClaim) !== undefined) {
    throw new UsageError('--jwt-issuer, --jwt-audience and --jwt-claim need --jwks-url');
  }
  const jwt =
    options.jwksUrl === undefined
      ? undefined
      : {
          jwksUrl: options.jwksUrl,
          ...(options.jwtIssuer ? { issuer: options.jwtIssuer } : {}),
          ...(options.jwtAudience ? { audience: options.jwtAudience } : {}),
          ...(options.jwtClaim ? { claim: options.jwtClaim } : {}),
        };
  return { ...(tls ? { tls } : {}), ...(jwt ? { jwt } : {}), allowEncode: options.allowEncode ?? false };
}

export function registerCodec(program: Command): void {
  program
    .command('codec-server')
    .description(
      "Serve Temporal's codec-server protocol (POST /encode, /decode) with the configured key ring, so the Web UI and `temporal --codec-endpoint` show encrypted payloads decrypted; until Ctrl-C. A bearer token is required when JIPPER_CODEC_TOKEN or --jwks-url is set; listening beyond loopback needs one."
    )
    .option('--port <port>', 'port (0: a free one)', port, DEFAULT_CODEC_PORT)
    .option('--host <address>', 'address to listen on (whoever reaches it reads every payload)', '127.0.0.1')
    .option(
      '--origin <url>',
      'a Web UI origin browsers may call from (repeatable; default: the configured webUi (--web-ui, JIPPER_WEB_UI_URL), else http://127.0.0.1:8233, and its localhost twin)',
      origin
    )
    .option('--allow-encode', 'serve POST /encode too (off by default: whoever can encode can forge payloads)')
    .option('--jwks-url <url>', "accept JWTs (the Web UI's forwarded access token) the issuer's JWKS verifies", httpUrl)
    .option('--jwt-issuer <iss>', 'the issuer a JWT must name')
    .option('--jwt-audience <aud>', 'the audience a JWT must name')
    .option('--jwt-claim <name>', 'the claim listing "<namespace>:<role>" permissions (default: permissions)')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--json', 'print { url, keys, current, origins, tokenRequired } as one JSON line once it serves')
    .action(
      action(async (options: CodecServerOptions) => {
        const { keyRing, webUi } = await cliConfig();
        if (!keyRing) {
          throw new ConfigError(
            'no key ring configured: set JIPPER_ENCRYPTION_KEYS or JIPPER_ENCRYPTION_KEYS_FILE (see `jipper keys add`)'
          );
        }
        const token = codecToken();
        const access = serverAccess(options);
        const origins = options.origin?.length ? options.origin : uiOrigins(webUi ?? 'http://127.0.0.1:8233');
        const server = await startCodecServer({
          keyRing,
          port: options.port,
          host: options.host,
          origins,
          ...(token ? { token } : {}),
          ...access,
          log: (line) => err(line),
        }).catch((error: unknown) => {
          throw new UsageError(oneLine(error));
        });
        const keys = [...keyRing.keys.keys()];
        const tokenRequired = token !== undefined || access.jwt !== undefined;
        if (options.json) {
          printJsonLine({ url: server.url, keys, current: keyRing.current, origins, tokenRequired });
        } else {
          out(
            `codec server: ${server.url}`,
            `  keys: ${keys.join(', ')} (current ${keyRing.current}) from ${keyRing.source}`,
            `  browsers allowed from: ${origins.join(', ')}`,
            `  bearer token: ${tokenRequired ? `required (${[token ? 'JIPPER_CODEC_TOKEN' : '', access.jwt ? `a JWT from ${access.jwt.jwksUrl}` : ''].filter(Boolean).join(' or ')})` : 'not required'}`,
            `  /encode: ${access.allowEncode ? 'on' : 'off'}`,
            'Press Ctrl-C to stop.'
          );
        }
        await untilSignal();
        await server.close();
      })
    );

  registerKeys(program);
}

function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Manage the key ring payloads are encrypted with.');
  const asConfigError = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      if (err instanceof KeyRingError) throw new ConfigError(err.message, { cause: err });
      throw err;
    }
  };
  keys
    .command('add')
    .description(
      'Add a new random key to a key ring file and make it current (creating the file, readable by its owner only). Older keys stay, so what they encrypted still decrypts. Prints the new key id, never the key. To rotate without a gap, add it with --keep-current everywhere first, then `jipper keys use` it.'
    )
    .argument('<file>', 'key ring file (JIPPER_ENCRYPTION_KEYS_FILE)')
    .option('--id <id>', 'the new key id (default: k<date>-<random>)')
    .option('--keep-current', 'add the key but keep encrypting with the current one')
    .option('--json', 'print { file, id, current } as JSON')
    .action(
      action(async (file: string, options: { id?: string; keepCurrent?: boolean; json?: boolean }) => {
        const id = await addKey(file, options.id, { keepCurrent: options.keepCurrent ?? false }).catch(
          keyRingConfigError
        );
        if (options.json) printJson({ file, id, current: !options.keepCurrent });
        else out(id);
      })
    );
  registerKeysWrap(keys);
  keys
    .command('use')
    .description('Make a key of a key ring file the current one: new payloads are encrypted with it.')
    .argument('<file>', 'key ring file (JIPPER_ENCRYPTION_KEYS_FILE)')
    .argument('<id>', 'the key to encrypt with from now on')
    .option('--json', 'print { file, current } as JSON')
    .action(
      action(async (file: string, id: string, options: { json?: boolean }) =>
        asConfigError(() => {
          useKeyInFile(file, id);
          if (options.json) printJson({ file, current: id });
        })
      )
    );
}
