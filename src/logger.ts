import { createHash } from 'node:crypto';
import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Root logger. Modules take `logger.child({ module })`. Secrets, tokens, phone numbers and message
 * text are removed by path so that a careless `log.info({ event })` cannot leak them; log lines
 * carry ids (event, conversation, message, job), never a phone.
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

/**
 * Short stable id (a SHA-256 prefix) for a phone number or user id, to correlate log lines without
 * printing the value. Not called by the router today. It is unkeyed, so it hides digits from a
 * casual reader only: phone numbers are few enough to be found again by hashing them all.
 */
export function hashId(value: string | null | undefined): string | null {
  if (!value) return null;
  return createHash('sha256').update(value).digest('hex').slice(0, 12);
}
