/** The zod checks the configuration's sources (config file, environment, flags) share. */
import { z } from 'zod';
import { splitAddress } from './address';

/** The task queue Jipper's workers poll unless configured otherwise. */
export const DEFAULT_TASK_QUEUE = 'jipper';

const nonEmpty = z.string().trim().min(1, 'must not be empty');

/** `host:port` (or `[v6]:port`) with a port in 1–65535. */
export const addressSchema = nonEmpty.refine((address) => {
  try {
    const { port } = splitAddress(address);
    return Number.isInteger(port) && port > 0 && port < 65536;
  } catch {
    return false;
  }
}, 'must be host:port, e.g. 127.0.0.1:7233');

export const taskQueueSchema = nonEmpty.regex(/^[^\s]+$/, 'must not contain spaces');
