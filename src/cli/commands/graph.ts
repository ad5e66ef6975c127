/** `jipper graph <definition>`: the process as a Mermaid flowchart, forward path and revert path. */
import type { Command } from 'commander';
import { processGraph } from '../graph';
import { UsageError } from '../errors';
import { out, printJson } from '../io';
import { action, collectSet, parseSets, setTexts, requireValidDefinition } from '../context';
import { SET_HELP } from './validate';

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description(
      'Print the process as a Mermaid flowchart: the forward graph (needs, $from and uses; parallel groups fan out and in; the pivot marked) and the revert path (dashed, wave by wave, newest first; jobs without a revert skipped).'
    )
    .argument('<definition>', 'definition file (.json, .yaml, .yml)')
    .option('--set <key=value>', SET_HELP, collectSet)
    .option('--markdown', 'wrap the chart in a ```mermaid fence')
    .option('--json', 'print { name, mermaid } as JSON')
    .action(
      action(async (file: string, options: { set?: string[]; markdown?: boolean; json?: boolean }) => {
        if (options.json && options.markdown) throw new UsageError('choose one of --json and --markdown');
        const { definition, validation } = await requireValidDefinition(
          file,
          parseSets(options.set ?? []),
          setTexts(options.set ?? [])
        );
        const chart = processGraph(definition, validation.jobs, validation.nodes);
        if (options.json) return printJson({ name: definition.name, mermaid: chart });
        out(options.markdown ? `\`\`\`mermaid\n${chart}\n\`\`\`` : chart);
      })
    );
}
