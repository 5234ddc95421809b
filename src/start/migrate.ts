import { pino } from 'pino';
import { isAppError } from '../errors.js';
import { configureLogger } from '../logger.js';
import { runCheck } from '../store/crm-check/check.js';
import { fixDuplicates } from '../store/crm-check/fix-duplicates.js';
import { renderCheck, renderFix } from '../store/crm-check/report.js';
import { migrate } from '../store/migrate.js';
import { describeStore, openDb } from '../store/open-db.js';
import { configOrExit } from './config-or-exit.js';

/**
 * `npm run migrate`: apply migrations (and the default menu on an empty database), then exit.
 * `npm run migrate -- --check`: report, changing nothing, what the migrations would add to this
 *   database (the CRM's, usually), its duplicates, triggers and column types; exit 2 if something
 *   blocks the router's guarantees.
 * `npm run migrate -- --fix`: migrations, then merge the duplicates and create the unique wamid
 *   index; prints what it did and the check afterwards (exit 2 if still blocked).
 * Reports go to stdout; JSON logs go to stderr in --check/--fix so the report stays readable.
 */
const USAGE = 'usage: npm run migrate [-- --check | --fix]';
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--check' && a !== '--fix');
if (unknown.length || args.length > 1) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(64);
}
const mode = args[0] === '--check' ? 'check' : args[0] === '--fix' ? 'fix' : 'migrate';

const config = configOrExit();
const log = configureLogger(
  config.LOG_LEVEL,
  mode === 'migrate' ? undefined : pino.destination({ dest: 2, sync: true }),
);
const db = await openDb(config, log);
try {
  if (mode !== 'migrate' && db.engine === 'pglite') {
    // Not an error: the embedded database is the router's own, so this checks that one.
    process.stdout.write(
      `note: no DATABASE_URL, checking the ${describeStore(config)}; set DATABASE_URL to check the CRM's database\n\n`,
    );
  }
  if (mode === 'check') {
    const report = await runCheck(db);
    process.stdout.write(renderCheck(report));
    process.exitCode = report.blockers.length ? 2 : 0;
  } else {
    const { ran, blockers } = await migrate(db, log, { seed: config.SEED_DEFAULT_MENU });
    log.info({ applied: ran.length }, ran.length ? 'migrations applied' : 'database already up to date');
    if (mode === 'migrate' && blockers.length > 0) process.exitCode = 2;
    if (mode === 'fix') {
      process.stdout.write(renderFix(await fixDuplicates(db, log)));
      const report = await runCheck(db);
      process.stdout.write(`\n${renderCheck(report)}`);
      process.exitCode = report.blockers.length ? 2 : 0;
    }
  }
} catch (err) {
  log.error(
    { err, code: isAppError(err) ? err.code : undefined },
    `migrate${mode === 'migrate' ? '' : ` --${mode}`} failed`,
  );
  process.exitCode = 1;
} finally {
  await db.close();
}
