/**
 * What one codec-server request may cost, and the means to hold it there: a body over the limit is refused by its
 * `Content-Length` before a byte is read (and a streamed body is cut off at the limit); a body with more JSON values
 * than the payload limit allows is refused before it is parsed; payloads are decoded a slice at a time, yielding to the
 * event loop between slices, so other requests are served meanwhile; the decoded bytes of one answer are capped; and
 * only a few requests are worked on at once (the rest wait their turn).
 *
 * The defaults keep one request under 1 s of CPU and 64 MB above the server's idle memory (RELIABILITY.md, "Codec
 * server limits", has the measured figures).
 */
import type { IncomingMessage } from 'node:http';

export interface CodecLimits {
  /** The largest request body, in bytes. Default 4 MiB: one payload at Temporal's 2 MB limit, in base64, fits. */
  maxBodyBytes: number;
  /** The most payloads one request may carry. Default 1000. */
  maxPayloads: number;
  /** The most bytes the payloads of one answer may decode (or encode) to. Default 8 MiB. */
  maxOutputBytes: number;
  /** Requests worked on at once; more wait in line. Default 4. */
  concurrency: number;
  /** Requests that may wait in line; more are answered 503. Default 64. */
  queue: number;
}

export const DEFAULT_CODEC_LIMITS: Readonly<CodecLimits> = {
  maxBodyBytes: 4 * 1024 * 1024,
  maxPayloads: 1000,
  maxOutputBytes: 8 * 1024 * 1024,
  concurrency: 4,
  queue: 64,
};

/** A request over a limit: answered with `status` and the one-line message. */
export class LimitError extends Error {
  override readonly name = 'LimitError';
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

/**
 * The request body as text. Throws a {@link LimitError} (413) at once when `Content-Length` says it is over `maxBytes`,
 * and as soon as a streamed body passes it, without reading the rest.
 */
export function readLimitedBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const over = new LimitError(413, `request body over ${maxBytes} bytes`);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(over);
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      reject(over);
    };
    req.on('data', onData);
    req.once('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/**
 * Refuses, before parsing, a body with more JSON objects, arrays or values than `maxPayloads` payloads can hold (each
 * payload is an object with a metadata object of a few entries): a few megabytes of `{}` (or of `[`) would otherwise
 * become a million objects in memory. A payload has 2 objects and at most ~8 commas in practice; the bound allows 16
 * metadata entries, and the one array of payloads.
 */
export function checkShape(body: string, maxPayloads: number): void {
  let objects = 0;
  let commas = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) objects++;
    else if (c === 0x2c) commas++;
  }
  if (objects > 2 * maxPayloads + 2 || commas > 18 * maxPayloads) {
    throw new LimitError(413, `more than ${maxPayloads} payloads in one request`);
  }
}

/** Waits for the next turn of the event loop, so that other requests are served between slices of work. */
export function nextTurn(): Promise<void> {
  return new Promise((resolveTurn) => setImmediate(resolveTurn));
}

/**
 * Runs `fn` on each item a slice at a time (about `sliceBytes` of input, as `sizeOf` says), yielding to the event loop
 * between slices. Stops with a {@link LimitError} (413) once the outputs' sizes pass `maxOutputBytes`.
 */
export async function mapInSlices<T, R>(
  items: readonly T[],
  fn: (item: T) => R,
  sizes: { of: (item: T) => number; out: (result: R) => number; maxOutputBytes: number; sliceBytes?: number }
): Promise<R[]> {
  const sliceBytes = sizes.sliceBytes ?? 256 * 1024;
  const out: R[] = [];
  let outBytes = 0;
  let sliceUsed = 0;
  for (const item of items) {
    if (sliceUsed >= sliceBytes) {
      sliceUsed = 0;
      await nextTurn();
    }
    const result = fn(item);
    outBytes += sizes.out(result);
    if (outBytes > sizes.maxOutputBytes) {
      throw new LimitError(
        413,
        `the payloads decode to more than ${sizes.maxOutputBytes} bytes: ask for fewer at once`
      );
    }
    sliceUsed += sizes.of(item) + 64;
    out.push(result);
  }
  return out;
}

/** At most `concurrency` holders at once; up to `queue` more wait; beyond that {@link LimitError} 503. */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number
  ) {}

  async enter(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return;
    }
    if (this.waiting.length >= this.queue) throw new LimitError(503, 'the codec server is busy: try again shortly');
    await new Promise<void>((resolveTurn) => this.waiting.push(resolveTurn));
  }

  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
