import { defineConfig } from 'vitest/config';

// Integration tests share one real PostgreSQL database and one Redis, so files run one at a time
// (as in bullmq and supabase/storage); parallelism inside a test is real and deliberate.
export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
