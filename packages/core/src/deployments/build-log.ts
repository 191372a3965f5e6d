import { logger } from "../log.ts";
import { redactSecrets } from "../redact.ts";
import type { BuildLogPort } from "./ports.ts";
import { installedPort } from "./select-ports.ts";
import type { BuildLog } from "./records.ts";

export const BUILD_LOG_EXCERPT_BYTES = 4096;

let cloudLogs: Promise<BuildLogPort> | undefined;

/** The installed build-log port, else CloudWatch Logs: deployments.get bundles that adapter alone. */
function buildLogs(): Promise<BuildLogPort> {
  const installed = installedPort("buildLogs");
  if (installed) return Promise.resolve(installed);
  cloudLogs ??= import("./cloud/logs.ts").then((m) => m.cloudWatchBuildLogs());
  return cloudLogs;
}

/**
 * The tail of the build's log, secrets masked: recorded when the build ends, and read live while
 * it runs (deployments.get). A log that cannot be read never fails a deployment or a read.
 */
export async function buildLogExcerpt(logGroup: string, streamPrefix: string): Promise<BuildLog | undefined> {
  try {
    const logs = await buildLogs();
    const tail = await logs.tail({ logGroup, streamPrefix }, BUILD_LOG_EXCERPT_BYTES);
    return tail && { excerpt: redactSecrets(tail.text), truncated: tail.truncated };
  } catch (error) {
    logger.warn("build log unavailable", { error: error as Error });
    return undefined;
  }
}
