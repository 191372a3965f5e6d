import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { BuildLogPort } from "@bulkhead/core/deployments/ports";

/**
 * Stand-in for CloudWatch Logs: a log group `/bulkhead/<org>/<app>/build` is the directory
 * `<root>/bulkhead/<org>/<app>/build`, a stream a file in it.
 */
export type LocalLogGroups = BuildLogPort & { streamFile: (group: string, stream: string) => string };

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function localLogGroups(root: string): LocalLogGroups {
  const groupDir = (group: string) => {
    const segments = group.replace(/^\//, "").split("/");
    if (segments.some((s) => !SEGMENT.test(s))) throw new Error(`not a valid log group: ${group}`);
    return join(root, ...segments);
  };
  return {
    streamFile(group, stream) {
      if (!SEGMENT.test(stream)) throw new Error(`not a valid log stream: ${stream}`);
      return join(groupDir(group), `${stream}.log`);
    },
    async tail({ logGroup, streamPrefix }, maxBytes) {
      const dir = groupDir(logGroup);
      if (!existsSync(dir)) return undefined;
      const stream = readdirSync(dir).filter((f) => f.startsWith(streamPrefix) && f.endsWith(".log")).sort()[0];
      if (!stream) return undefined;
      const file = join(dir, stream);
      const size = statSync(file).size;
      const start = Math.max(0, size - maxBytes);
      const buffer = Buffer.alloc(size - start);
      const fd = openSync(file, "r");
      try {
        readSync(fd, buffer, 0, buffer.length, start);
      } finally {
        closeSync(fd);
      }
      const text = buffer.toString("utf8");
      // Start at a line boundary when cut.
      return start > 0 ? { text: text.replace(/^[^\n]*\n/, ""), truncated: true } : { text, truncated: false };
    },
  };
}
