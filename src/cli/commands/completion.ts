/** `jipper completion bash|zsh|fish`: the shell completion script, generated from the command line itself. */
import type { Command } from 'commander';
import { Argument } from 'commander';
import type { Shell } from '../completion';
import { SHELLS, completionScript } from '../completion';
import { io } from '../io';
import { action } from '../context';

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description(
      'Print the shell completion script: source <(jipper completion bash), source <(jipper completion zsh) after compinit, or jipper completion fish | source.'
    )
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .option('--json', 'print { shell, script } as JSON')
    .action(
      action(async (shell: Shell, options: { json?: boolean }) => {
        const script = completionScript(program, shell);
        if (options.json) io().stdout.write(`${JSON.stringify({ shell, script }, null, 2)}\n`);
        else io().stdout.write(script);
      })
    );
}
