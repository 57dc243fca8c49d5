import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests import packages from source; child-process tests run the built CLI (npm test builds first).
export default defineConfig({
  resolve: {
    alias: {
      '@mini-amq/stomp': src('stomp'),
      '@mini-amq/store': src('store'),
      '@mini-amq/broker': src('broker'),
      '@mini-amq/replication': src('replication'),
      '@mini-amq/network': src('network'),
      '@mini-amq/cli': src('cli'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
