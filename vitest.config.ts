import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // The fuzz and leak tests measure the heap after a forced collection.
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
  },
});
