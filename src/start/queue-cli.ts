import { Queue } from 'bullmq';
import { loadConfig } from '../config.js';
import { DeadLetterService } from '../conversations/dead-letters.js';
import { INBOUND_QUEUE } from '../conversations/queues.js';
import { workerConnection } from '../conversations/redis-connections.js';
import { configureLogger } from '../logger.js';
import { openDb } from '../store/open-db.js';

/**
 * `npm run queue -- <command>` for operators:
 *   status              queue counts (waiting/active/delayed/failed) and journal backlog
 *   dead                list dead letters (journal events and failed jobs)
 *   replay all|<id>...  replay dead letters (journal event ids are numbers, job ids start with in-)
 *   wait-empty          block until the queue has nothing waiting/active/delayed (before a rollback)
 */
const [command = 'status', ...args] = process.argv.slice(2);
const config = loadConfig();
const log = configureLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
const db = await openDb(config, log);
const connection = config.REDIS_URL ? workerConnection(config.REDIS_URL) : null;
const queue = connection ? new Queue(INBOUND_QUEUE, { connection }) : null;
const deadLetters = new DeadLetterService(db, connection, () => undefined);
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

try {
  switch (command) {
    case 'status': {
      const journal = await db.query(
        `SELECT estado, count(*)::int AS n FROM router_eventos GROUP BY estado ORDER BY estado`,
      );
      print({
        queue: queue
          ? await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')
          : 'REDIS_URL not set',
        journal: journal.rows,
      });
      break;
    }
    case 'dead':
      print(await deadLetters.list());
      break;
    case 'replay': {
      const all = args.includes('all');
      const eventIds = args.filter((a) => /^\d+$/.test(a));
      const jobIds = args.filter((a) => a.startsWith('in-'));
      // Replayed journal events are picked up by any running router/worker's sweeper within a second.
      print(
        await deadLetters.replay({
          eventIds: all ? null : eventIds.length > 0 ? eventIds : undefined,
          jobIds: all ? null : jobIds.length > 0 ? jobIds : undefined,
        }),
      );
      break;
    }
    case 'wait-empty': {
      if (!queue) throw new Error('REDIS_URL is not set');
      for (;;) {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed');
        const left = (c['waiting'] ?? 0) + (c['active'] ?? 0) + (c['delayed'] ?? 0);
        print({ left });
        if (left === 0) break;
        await new Promise((r) => setTimeout(r, 1_000));
      }
      break;
    }
    default:
      process.stderr.write(`unknown command ${command}; use status | dead | replay all|<id>... | wait-empty\n`);
      process.exitCode = 2;
  }
} finally {
  await deadLetters.close();
  await queue?.close();
  connection?.disconnect();
  await db.close();
}
