/**
 * The command line as a whole, in-process and with no server: every command takes `--json`, help says each default
 * once, and the bash completion script (generated from the program) completes commands, options and values in real
 * bash. zsh and fish, which `npm test` does not require, are tested the same way in the extended suite
 * (test/extended/shell-completion.extended.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram, runCli } from '../../src/cli/main';

/** Runs the command in-process and collects what it writes. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'jipper', ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

const commands = buildProgram().commands.map((c) => c.name());

/** Every command and subcommand (`dev status`), by its full name. */
function everyCommand(command: Command, prefix = ''): [string, Command][] {
  return command.commands.flatMap((sub): [string, Command][] => {
    const name = `${prefix}${sub.name()}`;
    return [[name, sub], ...everyCommand(sub, `${name} `)];
  });
}

test('every command takes --json', () => {
  const all = everyCommand(buildProgram());
  expect(all.map(([name]) => name)).toEqual(expect.arrayContaining(['dev status', 'dev stop', 'init', 'config']));
  // A command that only groups others (`schedule`, `keys`) runs nothing itself.
  const runs = all.filter(([, c]) => !(c.commands.length > 0 && c.options.length === 0));
  const without = runs.filter(([, c]) => !c.options.some((o) => o.long === '--json')).map(([name]) => name);
  expect(without).toEqual([]);
});

test.each(commands)('%s --help says each default once', async (command) => {
  const { code, stdout } = await cli(command, '--help');
  expect(code).toBe(0);
  expect(stdout).toContain(`Usage: jipper ${command}`);
  expect(stdout).not.toContain('(default: [])');
  expect(stdout).not.toMatch(/\(default [^)]*\)\s*\(default: /);
});

describe('shell completion', () => {
  let dir: string;
  const script = (shell: string) => {
    const file = join(dir, `jipper.${shell}`);
    return async () => {
      const { code, stdout } = await cli('completion', shell);
      expect(code).toBe(0);
      writeFileSync(file, stdout);
      return file;
    };
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jipper-completion-'));
    writeFileSync(join(dir, 'process.yaml'), 'name: x\nsteps: []\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What bash completes for the words typed so far (the last one is being completed). */
  const bash = (file: string, words: string[]) =>
    execFileSync(
      'bash',
      [
        '-c',
        `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _jipper; printf '%s\\n' "\${COMPREPLY[@]}"`,
        'bash',
        file,
        ...words,
      ],
      { cwd: dir, encoding: 'utf8' }
    )
      .split('\n')
      .filter(Boolean);

  test('bash: commands, options, option values, argument values and files', async () => {
    const file = await script('bash')();
    expect(bash(file, ['jipper', 'wa'])).toEqual(['watch']);
    expect(bash(file, ['jipper', 'p']).sort()).toEqual(['pause', 'plan']);
    expect(bash(file, ['jipper', 'list', '--st'])).toEqual(['--status']);
    expect(bash(file, ['jipper', 'list', '--status', 'pa']).sort()).toEqual(['parked', 'paused']);
    expect(bash(file, ['jipper', 'decide', 'p-1', 'step', 'ma'])).toEqual(['mark-reverted']);
    expect(bash(file, ['jipper', 'decide', '--wait', 'p-1', 'step', 'sk'])).toEqual(['skip']);
    expect(bash(file, ['jipper', 'plan', 'proc'])).toEqual(['process.yaml']);
    expect(bash(file, ['jipper', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(bash(file, ['jipper', 'to'])).toEqual(['tokens']);
    expect(bash(file, ['jipper', 'revise', 'p-1', 'proc'])).toEqual(['process.yaml']);
    // A hidden option (revise --set, refused with a reason) is not offered.
    expect(bash(file, ['jipper', 'revise', '--']).sort()).toEqual(['--help', '--json', '--reason']);
  });

  test('an unknown shell is refused in one line, naming the choices', async () => {
    const { code, stdout, stderr } = await cli('completion', 'powershell');
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(
      /^jipper: command-argument value 'powershell' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish\.\n$/
    );
  });
});
