import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import {
  findOrInstallTemporalCli,
  TEMPORAL_CLI_GO_VERSION,
  TEMPORAL_CLI_VERSION,
  TemporalCliUnavailableError,
} from '../../src/dev/temporal-cli';
import { findProjectRoot } from '../../src/config/project';

const run = promisify(execFile);
const pinned = [TEMPORAL_CLI_VERSION, TEMPORAL_CLI_GO_VERSION];

/** No TEMPORAL_CLI_PATH and no `temporal` on PATH: only the project cache (or an install into it) can answer. */
const cacheOnlyEnv = () => ({
  ...process.env,
  TEMPORAL_CLI_PATH: undefined,
  PATH: pathWithoutTemporal(process.env.PATH ?? ''),
});

describe('findOrInstallTemporalCli', () => {
  let scratch: string;
  // Every test below may rely on the pinned CLI being in the project cache, whichever of them runs alone or first.
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'jipper-cli-'));
    await findOrInstallTemporalCli({ env: cacheOnlyEnv() });
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('finds the pinned CLI in the project cache, and it runs', async () => {
    const cli = await findOrInstallTemporalCli({ env: cacheOnlyEnv() });
    expect(cli.path.startsWith(join(findProjectRoot(), '.jipper', 'bin'))).toBe(true);
    expect(cli.source).toBe('cache');
    expect(pinned).toContain(cli.version);
    const { stdout } = await run(cli.path, ['--version']);
    expect(stdout).toContain(`temporal version ${cli.version}`);
  });

  it('is fast and reports the cache once installed', async () => {
    const started = Date.now();
    const cli = await findOrInstallTemporalCli({ env: { PATH: '' }, install: false });
    expect(cli).toMatchObject({ source: 'cache' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('uses TEMPORAL_CLI_PATH first and asks the binary for its version', async () => {
    const cached = await findOrInstallTemporalCli({ env: { PATH: '' }, install: false });
    const cli = await findOrInstallTemporalCli({ env: { TEMPORAL_CLI_PATH: cached.path, PATH: '' } });
    expect(cli).toEqual({ path: cached.path, version: cached.version, source: 'env' });
  });

  it('finds `temporal` on PATH before the cache', async () => {
    const cached = await findOrInstallTemporalCli({ env: { PATH: '' }, install: false });
    const bin = join(scratch, 'bin');
    await run('mkdir', ['-p', bin]);
    await run('ln', ['-sf', cached.path, join(bin, 'temporal')]);
    const cli = await findOrInstallTemporalCli({ env: { PATH: `/nonexistent:${bin}` } });
    expect(cli).toMatchObject({ path: join(bin, 'temporal'), source: 'path', version: cached.version });
  });

  it('rejects a TEMPORAL_CLI_PATH that names no file, without looking further', async () => {
    const missing = join(scratch, 'no-such-temporal');
    const attempt = findOrInstallTemporalCli({ env: { TEMPORAL_CLI_PATH: missing, PATH: process.env.PATH } });
    await expect(attempt).rejects.toBeInstanceOf(TemporalCliUnavailableError);
    await expect(attempt).rejects.toThrow(`TEMPORAL_CLI_PATH=${missing} does not exist; point it at a temporal binary`);
  });

  it('rejects a TEMPORAL_CLI_PATH that is not the Temporal CLI', async () => {
    const impostor = join(scratch, 'impostor');
    writeFileSync(impostor, '#!/bin/sh\necho hello\n', { mode: 0o755 });
    await expect(findOrInstallTemporalCli({ env: { TEMPORAL_CLI_PATH: impostor } })).rejects.toThrow(
      /is not the Temporal CLI: --version printed "hello"/
    );
  });

  it('lists what it tried when nothing is found and installing is off', async () => {
    const emptyProject = join(scratch, 'project');
    await run('mkdir', ['-p', emptyProject]);
    const attempt = findOrInstallTemporalCli({ env: { PATH: '' }, projectRoot: emptyProject, install: false });
    await expect(attempt).rejects.toBeInstanceOf(TemporalCliUnavailableError);
    await expect(attempt).rejects.toThrow(
      /^no Temporal CLI found; tried TEMPORAL_CLI_PATH \(unset\), `temporal` on PATH/
    );
  });
});

/** PATH less the directories that hold a `temporal`, so the lookup has to reach the project cache. */
function pathWithoutTemporal(pathVar: string): string {
  return pathVar
    .split(delimiter)
    .filter((dir) => dir !== '' && !existsSync(join(dir, 'temporal')))
    .join(delimiter);
}
