import { createHash } from 'node:crypto';
import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Root logger. Modules take `logger.child({ module })`. Secrets, tokens, phone numbers and message
 * text are removed by path so that a careless `log.info({ event })` cannot leak them; identifiers
 * that operators need to correlate (phones) are logged through `hashId` instead.
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

export let logger: Logger = pino(buildLoggerOptions(process.env.LOG_LEVEL ?? 'info'));

/** Entry points call this once the config is parsed, before anything logs. */
export function configureLogger(level: string, destination?: pino.DestinationStream): Logger {
  logger = destination ? pino(buildLoggerOptions(level), destination) : pino(buildLoggerOptions(level));
  return logger;
}

/** Stable, non-reversible short id for a phone number or user id, for correlating log lines. */
export function hashId(value: string | null | undefined): string | null {
  if (!value) return null;
  return createHash('sha256').update(value).digest('hex').slice(0, 12);
}
