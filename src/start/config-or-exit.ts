import { ConfigError, loadConfig, type Config } from '../config.js';
import { logger } from '../logger.js';

/**
 * Entry points' config step: a bad value stops the process with every broken key and its rule,
 * exit code 78 (EX_CONFIG), so PM2 and operators see a configuration error, not a crash.
 */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ code: err.code, problems: err.problems }, 'invalid configuration; refusing to start');
      process.exit(78);
    }
    throw err;
  }
}
