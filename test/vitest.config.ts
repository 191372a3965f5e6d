import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    env: { POWERTOOLS_LOG_LEVEL: "SILENT" },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
