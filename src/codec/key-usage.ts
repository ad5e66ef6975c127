/**
 * How many payloads each key has encrypted, counted so that a key is retired well before AES-GCM's limit: with random
 * 96-bit nonces NIST SP 800-38D allows at most 2^32 encryptions per key. Every process that encrypts with a ring file
 * appends what it encrypted to `<ring file>.counts` (one `<key id> <count>` line at most once a second, appends being
 * atomic, and once more when the process exits), and the total is the sum of the lines; the file is compacted when it
 * grows. Two processes compacting at the same moment can lose a second's counts: the total is an estimate, and the
 * warning comes 4x before the limit.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** NIST SP 800-38D's limit for AES-GCM with random nonces: encryptions per key. */
export const GCM_RANDOM_NONCE_LIMIT = 2 ** 32;
/** When Jipper warns that a key should be retired: a quarter of the limit. */
export const KEY_USAGE_WARN_AT = 2 ** 30;
/** Lines the counts file may have before it is compacted to one line per key. */
const COMPACT_AFTER_LINES = 1_000;

/** Counts not yet written, flushed when the process exits (a short `jipper` command encrypts and exits at once). */
const unflushed = new Set<KeyUsage>();
let exitHook = false;

function flushAtExit(usage: KeyUsage): void {
  unflushed.add(usage);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const pending of unflushed) {
      try {
        pending.flush();
      } catch {
        // Exiting: a count that cannot be written is lost, as the module doc says an estimate may be.
      }
    }
  });
}

export class KeyUsage {
  private readonly pending = new Map<string, number>();
  private readonly totals = new Map<string, number>();
  private readonly warned = new Set<string>();

  /**
   * @param path the counts file (`<ring file>.counts`), or undefined to count in this process only.
   * @param warn told once per key when its total reaches {@link KEY_USAGE_WARN_AT}.
   */
  constructor(
    readonly path: string | undefined,
    private readonly warn: (keyId: string, total: number) => void
  ) {
    if (path !== undefined) this.read();
  }

  /** One more payload encrypted with `keyId`. */
  record(keyId: string): void {
    if (this.path !== undefined && this.pending.size === 0) flushAtExit(this);
    this.pending.set(keyId, (this.pending.get(keyId) ?? 0) + 1);
    const total = (this.totals.get(keyId) ?? 0) + 1;
    this.totals.set(keyId, total);
    if (total >= KEY_USAGE_WARN_AT && !this.warned.has(keyId)) {
      this.warned.add(keyId);
      this.warn(keyId, total);
    }
  }

  /** The estimated number of payloads `keyId` has encrypted, in every process that counts to the same file. */
  total(keyId: string): number {
    return this.totals.get(keyId) ?? 0;
  }

  /** Appends this process's counts since the last flush to the file, and reads everyone's totals back. */
  flush(): void {
    if (this.path === undefined || this.pending.size === 0) return;
    const lines = [...this.pending].map(([keyId, count]) => `${keyId} ${count}\n`).join('');
    this.pending.clear();
    unflushed.delete(this);
    appendFileSync(this.path, lines, { mode: 0o600 });
    this.read();
  }

  private read(): void {
    if (this.path === undefined || !existsSync(this.path)) return;
    const lines = readFileSync(this.path, 'utf8').split('\n');
    const sums = new Map<string, number>();
    for (const line of lines) {
      const [keyId, count] = line.trim().split(/\s+/);
      const n = Number(count);
      if (keyId && Number.isSafeInteger(n) && n > 0) sums.set(keyId, (sums.get(keyId) ?? 0) + n);
    }
    for (const [keyId, sum] of sums) {
      this.totals.set(keyId, sum + (this.pending.get(keyId) ?? 0));
      if (sum >= KEY_USAGE_WARN_AT && !this.warned.has(keyId)) {
        this.warned.add(keyId);
        this.warn(keyId, sum);
      }
    }
    if (lines.length > COMPACT_AFTER_LINES) this.compact(sums);
  }

  private compact(sums: Map<string, number>): void {
    if (this.path === undefined) return;
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, [...sums].map(([keyId, n]) => `${keyId} ${n}\n`).join(''), { mode: 0o600 });
    renameSync(temp, this.path);
  }
}
