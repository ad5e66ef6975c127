/**
 * Regenerates the replay fixtures in test/histories/ (`npm run record-histories`): runs the examples with the built
 * `jipper` command against a private in-memory dev server and a `jipper worker` with its own sandbox, then exports
 * each run's history with `jipper history`. One file per outcome, named after the run (the replay's workflow id):
 *
 * - succeeded            examples/provision-volume.yaml
 * - reverted             examples/provision-volume-over-quota.yaml (a group member fails; its sibling is reverted)
 * - failed-past-pivot    examples/provision-volume-past-pivot.yaml (nothing unwound)
 * - cancelled            examples/provision-volume-slow.yaml, cancelled mid-allocation (revertOnFailure)
 * - parked-then-decided  examples/provision-volume-park.yaml, parked past the pivot, then `decide ... skip`
 * - local-run-succeeded  examples/provision-volume-local.yaml (a run of two local jobs, then one alone)
 *
 * Record them again when a workflow change is meant to be incompatible (and shipped with a new workflow type or
 * patching); test/replay.test.ts replays them all against the current code. `jipper start` plans each run from the
 * job facts it sends; the `worker-planned-*` files, recorded before clients planned (the worker's `jipper.plan` local
 * activity, still used for processes started without facts), and `local-one-by-one-succeeded` (the same local
 * process recorded by commit ec704ea, before runs of local jobs), are not rewritten here.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/dev/ports';
import { findProjectRoot } from '../src/config/project';
import { CLI_PATH, jipperExpect, requireBuiltCli } from '../test/support/cli';

const root = findProjectRoot(__dirname);
const outDir = join(root, 'test', 'histories');

/** Starts `jipper <args>` in the background; resolves once its output contains `ready`. */
function background(args: string[], env: NodeJS.ProcessEnv, ready: string): Promise<ChildProcess> {
  return new Promise((resolveChild, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) resolveChild(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`jipper ${args.join(' ')} exited with ${code}:\n${output}`)));
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
}

async function waitForStatus(
  id: string,
  env: NodeJS.ProcessEnv,
  wanted: (s: { status: string; current: string[] }) => boolean
) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { stdout } = await jipperExpect(['status', id, '--json'], env, 0);
    if (wanted(JSON.parse(stdout) as { status: string; current: string[] })) return;
    if (Date.now() > deadline) throw new Error(`${id}: timed out; last status ${stdout}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<void> {
  requireBuiltCli();
  const sandbox = mkdtempSync(join(tmpdir(), 'jipper-record-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    JIPPER_TASK_QUEUE: 'record-histories',
    JIPPER_SANDBOX: sandbox,
  };
  let server: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  try {
    server = await background(['dev', '--port', String(port), '--headless', '--in-memory'], env, 'Press Ctrl-C');
    worker = await background(['worker'], env, 'worker on task queue');
    const start = (id: string, file: string, ...rest: string[]) =>
      jipperExpect(
        ['start', join('examples', file), '--id', id, ...rest],
        env,
        rest.includes('--wait') && id !== 'succeeded' ? 1 : 0
      );

    await start('succeeded', 'provision-volume.yaml', '--wait');
    await start('reverted', 'provision-volume-over-quota.yaml', '--wait');
    await start('failed-past-pivot', 'provision-volume-past-pivot.yaml', '--wait');

    await start('cancelled', 'provision-volume-slow.yaml', '--set', 'mbPerSec=4');
    await waitForStatus('cancelled', env, (s) => s.current.includes('allocate'));
    await jipperExpect(['cancel', 'cancelled'], env, 0);
    await waitForStatus('cancelled', env, (s) => s.status === 'cancelled');

    await start('local-run-succeeded', 'provision-volume-local.yaml', '--wait');

    await start('parked-then-decided', 'provision-volume-park.yaml');
    await waitForStatus('parked-then-decided', env, (s) => s.status === 'parked');
    await jipperExpect(['decide', 'parked-then-decided', 'second-export', 'skip'], env, 0);
    await waitForStatus('parked-then-decided', env, (s) => s.status === 'succeeded');

    mkdirSync(outDir, { recursive: true });
    const ids = [
      'succeeded',
      'reverted',
      'failed-past-pivot',
      'cancelled',
      'parked-then-decided',
      'local-run-succeeded',
    ];
    for (const id of ids) {
      await jipperExpect(['history', id, '-o', join(outDir, `${id}.json`)], env, 0);
      console.log(`recorded test/histories/${id}.json`);
    }
  } finally {
    await stop(worker);
    await stop(server);
    rmSync(sandbox, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
