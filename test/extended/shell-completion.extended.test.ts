/**
 * Extended suite (`npm run test:extended`, after `.ci/run` installs zsh and fish): the zsh and fish completion scripts
 * (generated from the program, as `jipper completion <shell>` prints them) in the real shells. bash is tested in
 * `npm test` (test/unit/cli-program.test.ts); the extended global setup fails first, naming the package to install,
 * when a shell is missing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  test('fish: commands, options and values', async () => {
    const file = await script('fish')();
    const complete = (line: string) =>
      execFileSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], {
        cwd: dir,
        encoding: 'utf8',
      })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    expect(complete('jipper wa')).toEqual(['watch']);
    expect(complete('jipper list --status pa').sort()).toEqual(['parked', 'paused']);
    expect(complete('jipper decide p-1 step ma')).toEqual(['mark-reverted']);
    expect(complete('jipper plan --fa')).toEqual(['--fail-at']);
  });

  test('zsh: the script parses and registers _jipper for jipper', async () => {
    const file = await script('zsh')();
    const out = execFileSync(
      'zsh',
      [
        '-f',
        '-c',
        `autoload -Uz compinit && compinit -u -d ${dir}/zcompdump && source ${file} && print -r -- $_comps[jipper] && whence -w _jipper`,
      ],
      { cwd: dir, encoding: 'utf8' }
    );
    expect(out.trim().split('\n')).toEqual(['_jipper', '_jipper: function']);
    for (const command of commands)
      expect(execFileSync('grep', ['-c', `'${command}:`, file], { encoding: 'utf8' }).trim()).toBe('1');
  });
});
