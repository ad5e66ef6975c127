/** `jipper config`: the effective settings — after flags, environment, config file and profile — and where each came from. */
import type { Command } from 'commander';
import { out } from '../io';
import { SETTING_NAMES } from '../../config/config';
import type { JipperConfig, SettingName } from '../../config/config';
import { configuredAddress } from '../../dev/ensure-server';
import { action, cliConfig, printJson } from '../context';

/** One setting's value as shown: secrets masked, lists joined. */
function shown(config: JipperConfig, name: SettingName): string {
  switch (name) {
    case 'configFile':
      return config.configFile ?? '(none)';
    case 'projectRoot':
      return config.projectRoot;
    case 'address':
      return config.address ?? `${configuredAddress(config)} (the embedded dev server)`;
    case 'namespace':
      return config.namespace;
    case 'taskQueue':
      return config.taskQueue;
    case 'libraries':
      return config.libraries?.map((lib) => lib.specifier).join(', ') ?? '(the example volume library)';
    case 'tls': {
      const { tls } = config.connectionOptions;
      if (tls === undefined || tls === null || tls === false) return 'off';
      if (tls === true) return 'on';
      return tls.clientCertPair ? 'on, with a client certificate (mTLS)' : 'on';
    }
    case 'apiKey':
      return config.connectionOptions.apiKey === undefined ? '(none)' : '(set)';
    case 'webUi':
      return config.webUi ?? '(from the server in use)';
    case 'identity':
      return config.identity ?? '(the OS user)';
    case 'encryptionRequired':
      return config.encryptionRequired ? 'yes' : 'no';
  }
}

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description(
      'Print the effective settings (after flags, environment, the config file and the Temporal profile) and where each came from. API keys are never printed.'
    )
    .option('--json', 'print { settings: { name: { value, source } } } as JSON')
    .action(
      action(async (options: { json?: boolean }) => {
        const config = await cliConfig();
        const rows = SETTING_NAMES.map((name) => ({ name, value: shown(config, name), source: config.sources[name] }));
        if (options.json) {
          printJson({
            settings: Object.fromEntries(rows.map((row) => [row.name, { value: row.value, source: row.source }])),
            libraries: config.libraries ?? null,
          });
          return;
        }
        const nameWidth = Math.max(...rows.map((row) => row.name.length));
        const valueWidth = Math.max(...rows.map((row) => row.value.length));
        for (const row of rows) {
          out(`${row.name.padEnd(nameWidth)}  ${row.value.padEnd(valueWidth)}  ${row.source}`);
        }
      })
    );
}
