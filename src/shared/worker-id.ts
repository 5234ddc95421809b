import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * The owner name a background worker writes into the leases and claims it takes: host, pid and
 * role say which process holds a row (for operators reading the tables), the random suffix keeps
 * two workers of one process apart.
 */
export function workerId(role: string): string {
  return `${hostname()}:${process.pid}:${role}:${randomUUID().slice(0, 8)}`;
}
