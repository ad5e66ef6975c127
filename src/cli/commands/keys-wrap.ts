/** `jipper keys wrap`: envelope encryption for a key ring file (docs/security.md). */
import type { Command } from 'commander';
import { KeyRingError, wrapKeyRingFile } from '../../codec/keyring';
import { ConfigError } from '../../config/errors';
import { out, printJson } from '../io';
import { action } from '../context';

/** A key ring problem as the one-line ConfigError the command line prints. */
export function keyRingConfigError(err: unknown): never {
  if (err instanceof KeyRingError) throw new ConfigError(err.message, { cause: err });
  throw err;
}

/** Registers `keys wrap` under the `keys` command. */
export function registerKeysWrap(keys: Command): void {
  keys
    .command('wrap')
    .description(
      'Envelope encryption: wrap every key of a key ring file with a key-encryption key kept in another file (made, readable by its owner only, when missing). From then on the ring file alone decrypts nothing; keep the two apart. See docs/security.md.'
    )
    .argument('<file>', 'key ring file (JIPPER_ENCRYPTION_KEYS_FILE)')
    .requiredOption('--kek-file <path>', 'the key-encryption key file')
    .option('--json', 'print { file, kek, wrapped } as JSON')
    .action(
      action(async (file: string, options: { kekFile: string; json?: boolean }) => {
        const wrapped = await wrapKeyRingFile(file, options.kekFile).catch(keyRingConfigError);
        if (options.json) printJson({ file, kek: options.kekFile, wrapped });
        else out(`wrapped ${wrapped.join(', ')} with the key-encryption key in ${options.kekFile}`);
      })
    );
}
