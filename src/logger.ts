import { pino, type Logger, type LoggerOptions } from 'pino';
import { SCRUBBING_SERIALIZERS } from './log-safety.js';

/**
 * Root logger. Modules take `logger.child({ module })`. Secrets, tokens, phone numbers and message
 * text are removed by path so that a careless `log.info({ event })` cannot leak them; identifiers
 * that operators need to correlate (conversation keys, job ids) are logged through `hashId`, and
 * error messages are scrubbed of digit runs and wamids (log-safety.ts).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'headers.authorization',
  'authorization',
  'token',
  'accessToken',
  'appSecret',
  'secret',
  'password',
  'text',
  'body',
  'from',
  'telefono',
  'phone',
  'profileName',
  '*.text',
  '*.body',
  '*.from',
  '*.telefono',
  '*.phone',
  '*.profileName',
  '*.mensaje',
  'event.details',
];

export function buildLoggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'psi-router', pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: SCRUBBING_SERIALIZERS,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

/**
 * Until an entry point calls configureLogger with the parsed LOG_LEVEL, lines go out at `info`: only
 * a startup failure (bad configuration included) logs that early. config.ts stays the only reader
 * of the environment.
 */
export let logger: Logger = pino(buildLoggerOptions('info'));

/** Entry points call this once the config is parsed, before anything logs. */
export function configureLogger(level: string, destination?: pino.DestinationStream): Logger {
  logger = destination ? pino(buildLoggerOptions(level), destination) : pino(buildLoggerOptions(level));
  return logger;
}
