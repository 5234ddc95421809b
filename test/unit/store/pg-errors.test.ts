import { describe, expect, it } from 'vitest';
import { translatePgError } from '../../../src/store/pg-errors.js';

describe('translatePgError', () => {
  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'STORE_UNAVAILABLE', 503],
    [{ code: '08006', message: 'connection failure' }, 'STORE_UNAVAILABLE', 503],
    [{ code: '57P01', message: 'terminating connection due to administrator command' }, 'STORE_UNAVAILABLE', 503],
    [new Error('Connection terminated unexpectedly'), 'STORE_UNAVAILABLE', 503],
    [new Error('timeout exceeded when trying to connect'), 'STORE_UNAVAILABLE', 503],
    [{ code: '57014', message: 'canceling statement due to statement timeout' }, 'DB_TIMEOUT', 503],
    [{ code: '23505', message: 'duplicate key value' }, 'DB_DUPLICATE', 409],
    [{ code: '42P01', message: 'relation "x" does not exist' }, 'DB_ERROR', 500],
  ])('when the driver throws %o, then the code is %s', (err, code, status) => {
    const translated = translatePgError(err);
    expect(translated.code).toBe(code);
    expect(translated.status).toBe(status);
  });

  it('when the store is unavailable, then the error is retryable; a bug-level error is not', () => {
    expect(translatePgError({ code: 'ECONNRESET' }).retryable).toBe(true);
    expect(translatePgError({ code: '42601' }).retryable).toBe(false);
  });
});
