/**
 * Shell completion for `jipper` (`jipper completion bash|zsh|fish`), generated from the command line's own definition,
 * so it never drifts from it: the commands, each command's options, the values of options and arguments that have a
 * fixed set (a status, a decision), and file names where a command takes a file.
 */
import type { Argument, Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** Arguments and options that name files (completed with file names). */
const FILE_ARGUMENTS = new Set(['definition', 'paths', 'file']);
const FILE_OPTIONS = new Set(['--output', '--bundle', '--db']);

interface OptionSpec {
  long: string;
  short?: string;
  description: string;
  takesValue: boolean;
  choices?: readonly string[];
  files: boolean;
}

interface ArgumentSpec {
  name: string;
  variadic: boolean;
  choices?: readonly string[];
  files: boolean;
}

interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  args: ArgumentSpec[];
}

/** The first sentence of a description, for a shell's one-line hint. */
function brief(text: string): string {
  const first = /^(.*?[.;:])(\s|$)/.exec(text)?.[1] ?? text;
  return first.replace(/[.;:]$/, '');
}

function optionSpec(option: Option): OptionSpec | undefined {
  if (!option.long || option.hidden) return undefined;
  return {
    long: option.long,
    ...(option.short ? { short: option.short } : {}),
    description: brief(option.description),
    takesValue: option.required || option.optional,
    ...(option.argChoices ? { choices: option.argChoices } : {}),
    files: FILE_OPTIONS.has(option.long),
  };
}

function argumentSpec(argument: Argument): ArgumentSpec {
  return {
    name: argument.name(),
    variadic: argument.variadic,
    ...(argument.argChoices ? { choices: argument.argChoices } : {}),
    files: FILE_ARGUMENTS.has(argument.name()),
  };
}

const HELP_OPTION: OptionSpec = {
  long: '--help',
  short: '-h',
  description: 'show help',
  takesValue: false,
  files: false,
};

/** What completion needs to know of the program: its commands, their options and arguments. */
export function commandSpecs(program: Command): CommandSpec[] {
  return program.commands.map((command) => ({
    name: command.name(),
    description: brief(command.description()),
    options: [...command.options.flatMap((o) => optionSpec(o) ?? []), HELP_OPTION],
    args: command.registeredArguments.map(argumentSpec),
  }));
}

/** A bash single-quoted word. */
const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function bash(commands: CommandSpec[]): string {
  const optionValues: string[] = [];
  const positions: string[] = [];
  const perCommand: string[] = [];
  for (const c of commands) {
    const valued = c.options.filter((o) => o.takesValue).flatMap((o) => [o.long, ...(o.short ? [o.short] : [])]);
    const all = c.options.flatMap((o) => [o.long, ...(o.short ? [o.short] : [])]);
    perCommand.push(`    ${c.name}) valued=${sq(valued.join(' '))}; options=${sq(all.join(' '))} ;;`);
    for (const o of c.options) {
      const names = [o.long, ...(o.short ? [o.short] : [])].map((n) => `"${c.name} ${n}"`).join('|');
      if (o.choices)
        optionValues.push(`    ${names}) COMPREPLY=($(compgen -W ${sq(o.choices.join(' '))} -- "$cur")); return ;;`);
      else if (o.files) optionValues.push(`    ${names}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`);
    }
    c.args.forEach((a, i) => {
      const at = a.variadic ? `"${c.name} "*` : `"${c.name} ${i}"`;
      if (a.choices)
        positions.push(`    ${at}) COMPREPLY=($(compgen -W ${sq(a.choices.join(' '))} -- "$cur")); return ;;`);
      else if (a.files) positions.push(`    ${at}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`);
    });
  }
  return `# jipper completion for bash. Load it with: source <(jipper completion bash)
# or save it as /etc/bash_completion.d/jipper (or ~/.local/share/bash-completion/completions/jipper).
_jipper() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  if (( COMP_CWORD == 1 )); then
    COMPREPLY=($(compgen -W ${sq([...commands.map((c) => c.name), '--help', '--version'].join(' '))} -- "$cur"))
    return
  fi
  local cmd=\${COMP_WORDS[1]} valued='' options='' i n=0
  case $cmd in
${perCommand.join('\n')}
    *) return ;;
  esac
  case "$cmd $prev" in
${optionValues.join('\n')}
  esac
  if [[ -n $valued && " $valued " == *" $prev "* ]]; then COMPREPLY=(); return; fi
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$options" -- "$cur")); return; fi
  for (( i = 2; i < COMP_CWORD; i++ )); do
    if [[ \${COMP_WORDS[i]} == -* ]]; then
      if [[ -n $valued && " $valued " == *" \${COMP_WORDS[i]} "* ]]; then (( i++ )); fi
    else
      (( n++ ))
    fi
  done
  case "$cmd $n" in
${positions.join('\n')}
  esac
  COMPREPLY=()
}
complete -o filenames -F _jipper jipper
`;
}

/** A zsh `_arguments` spec's text: its brackets, colons and quotes escaped. */
const zq = (text: string) =>
  text
    .replace(/\\/g, '\\\\')
    .replace(/([[\]:])/g, '\\$1')
    .replace(/'/g, `'\\''`);

function zsh(commands: CommandSpec[]): string {
  const described = commands.map((c) => `    '${zq(c.name)}:${zq(c.description)}'`).join('\n');
  const cases = commands.map((c) => {
    const specs = c.options.map((o) => {
      const action = o.choices
        ? `:value:(${o.choices.join(' ')})`
        : o.files
          ? ':file:_files'
          : o.takesValue
            ? ':value: '
            : '';
      const spec = `[${zq(o.description)}]${action}'`;
      return o.short ? `'(${o.short} ${o.long})'{${o.short},${o.long}}'${spec}` : `'${o.long}${spec}`;
    });
    const args = c.args.map((a, i) => {
      const where = a.variadic ? '*' : String(i + 1);
      const action = a.choices ? `(${a.choices.join(' ')})` : a.files ? '_files' : ' ';
      return `'${where}:${zq(a.name)}:${action}'`;
    });
    return `        ${c.name}) _arguments ${[...specs, ...args].join(' ')} ;;`;
  });
  return `#compdef jipper
# jipper completion for zsh. Load it with: source <(jipper completion zsh) (after compinit),
# or save it as _jipper in a directory of your $fpath.
_jipper() {
  local context state state_descr line
  typeset -A opt_args
  local -a commands
  commands=(
${described}
  )
  _arguments -C '(- *)--help[show help]' '(- *)--version[show the version]' '1: :->command' '*:: :->argument' && return
  case $state in
    command) _describe -t commands 'jipper command' commands ;;
    argument)
      case $words[1] in
${cases.join('\n')}
      esac
      ;;
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _jipper "$@"; else compdef _jipper jipper; fi
`;
}

/** A fish single-quoted word. */
const fq = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fish(commands: CommandSpec[]): string {
  const lines = [
    '# jipper completion for fish. Load it with: jipper completion fish | source',
    '# or save it as ~/.config/fish/completions/jipper.fish.',
    'complete -c jipper -f',
    "complete -c jipper -n __fish_use_subcommand -l help -s h -d 'show help'",
    "complete -c jipper -n __fish_use_subcommand -l version -s V -d 'show the version'",
  ];
  for (const c of commands) {
    lines.push(`complete -c jipper -n __fish_use_subcommand -a ${c.name} -d ${fq(c.description)}`);
    const when = `-n ${fq(`__fish_seen_subcommand_from ${c.name}`)}`;
    for (const o of c.options) {
      const names = `-l ${o.long.replace(/^--/, '')}${o.short ? ` -s ${o.short.replace(/^-/, '')}` : ''}`;
      const value = o.choices ? ` -x -a ${fq(o.choices.join(' '))}` : o.files ? ' -r -F' : o.takesValue ? ' -x' : '';
      lines.push(`complete -c jipper ${when} ${names}${value} -d ${fq(o.description)}`);
    }
    for (const a of c.args) {
      if (a.choices) lines.push(`complete -c jipper ${when} -a ${fq(a.choices.join(' '))}`);
      else if (a.files) lines.push(`complete -c jipper ${when} -F`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script for `shell`. */
export function completionScript(program: Command, shell: Shell): string {
  const commands = commandSpecs(program);
  return { bash, zsh, fish }[shell](commands);
}
