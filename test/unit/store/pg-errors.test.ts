import { describe, expect, it } from 'vitest';
import { isNoSpace } from '../../../src/store/no-space-watch.js';
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

  it.each([
    [{ code: '53100', message: 'could not extend file "base/5/16384": No space left on device' }],
    [{ code: 'ENOSPC', message: 'ENOSPC: no space left on device, write' }],
    [new Error('could not write to file "pg_wal/xlogtemp.42": No space left on device')],
  ])(
    'when the database has no space left (%o), then it is STORE_UNAVAILABLE (503, retryable) marked disk_full, not a 500',
    (err) => {
      const translated = translatePgError(err);
      expect(translated).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503, retryable: true });
      expect(translated.details?.['reason']).toBe('disk_full');
      expect(isNoSpace(translated)).toBe(true);
      expect(isNoSpace(translatePgError({ code: 'ECONNREFUSED' }))).toBe(false);
    },
  );

  it('when the store is unavailable, then the error is retryable; a bug-level error is not', () => {
    expect(translatePgError({ code: 'ECONNRESET' }).retryable).toBe(true);
    expect(translatePgError({ code: '42601' }).retryable).toBe(false);
  });

  it.each([['40P01'], ['40001']])(
    'when a statement lost a lock race (%s), then it is DB_CONFLICT: retryable, so a batch item that lost it is run again, not dead-lettered',
    (code) => {
      expect(translatePgError({ code, message: 'deadlock detected' })).toMatchObject({
        code: 'DB_CONFLICT',
        retryable: true,
      });
    },
  );
});
