import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // one file at a time: the thread tests run teams of up to 3 kernel threads on this 2-core machine, and
    // beside another file's work a team can stall (a known bug under oversubscription: see the README)
    fileParallelism: false,
  },
});
