import { loadConfig } from '../config.js';
import { configureLogger } from '../logger.js';
import { migrate } from '../store/migrate.js';
import { openDb } from '../store/open-db.js';

/** `npm run migrate`: apply migrations (and the default menu on an empty database), then exit. */
const config = loadConfig();
const log = configureLogger(config.LOG_LEVEL);
const db = await openDb(config, log);
try {
  const { ran, blockers } = await migrate(db, log, { seed: config.SEED_DEFAULT_MENU });
  log.info({ applied: ran.length }, ran.length ? 'migrations applied' : 'database already up to date');
  if (blockers.length > 0) process.exitCode = 2;
} finally {
  await db.close();
}
