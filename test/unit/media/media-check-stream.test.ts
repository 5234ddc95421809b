import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/errors.js';
import { MediaCheckStream } from '../../../src/media/media-checks.js';

/** Feeds `chunks` through a check stream into a sink that counts what reached it. */
async function run(chunks: Buffer[], maxBytes: number) {
  const check = new MediaCheckStream(maxBytes, 'video');
  let written = 0;
  let pulled = 0;
  const source = Readable.from(
    (function* () {
      for (const c of chunks) {
        pulled += 1;
        yield c;
      }
    })(),
  );
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      written += chunk.length;
      done();
    },
  });
  const error = await pipeline(source, check, sink).then(
    () => null,
    (e: unknown) => e,
  );
  return { check, written, pulled, error };
}

describe('MediaCheckStream', () => {
  it('when a file streams through within its limit, then it passes unchanged and its size and SHA-256 are those of the whole file', async () => {
    const chunks = Array.from({ length: 20 }, () => randomBytes(4_096));
    const { check, written, error } = await run(chunks, 20 * 4_096);
    expect(error).toBeNull();
    expect(written).toBe(20 * 4_096);
    expect(check.size).toBe(20 * 4_096);
    expect(check.digest().equals(createHash('sha256').update(Buffer.concat(chunks)).digest())).toBe(true);
  });

  it('when a file runs past its limit while streaming, then the stream fails with MEDIA_TOO_LARGE at that chunk and reads no further', async () => {
    const chunks = Array.from({ length: 100 }, () => randomBytes(1_000));
    const { written, pulled, error } = await run(chunks, 10_500);
    expect(isAppError(error) && error.code).toBe('MEDIA_TOO_LARGE');
    expect((error as Error).message).toBe('more than 10500 bytes for video');
    expect(written).toBeLessThanOrEqual(10_500);
    expect(pulled).toBeLessThan(30); // the source was not drained to its end
  });
});
