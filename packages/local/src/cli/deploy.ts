import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ApiError, UploadRefused } from "../deploy/api.ts";
import { deploy } from "../deploy/run.ts";
import { parseApiArgs, UsageError } from "../deploy/target.ts";

const USAGE = `usage: npm run deploy -- --org <org> --app <app id> --dir <directory> [--ref <ref>] [--target <target id>]
                         [--token <token>] [--url <API base URL>] [--timeout <seconds>]
Zips the directory (respecting .gitignore), uploads it through the API's presigned form, starts
a deployment and follows it until it ends: exit 0 on SUCCEEDED, 1 with the reason otherwise.
The token comes from --token or BULKHEAD_TOKEN; the API from --url or BULKHEAD_URL (default
http://<org>.localhost:$PORT, PORT 4000: the offline gateway of npm start).`;

/** Exit codes: 0 SUCCEEDED, 1 the deployment or upload failed, 2 bad usage. */
export async function main(args: string[], env = process.env, io = { out: process.stdout, err: process.stderr, isTTY: Boolean(process.stderr.isTTY) }): Promise<number> {
  try {
    const parsed = parseApiArgs(args, { dir: { type: "string" }, ref: { type: "string" }, target: { type: "string" }, timeout: { type: "string" } }, env);
    if (parsed.help) {
      io.out.write(`${USAGE}\n`);
      return 0;
    }
    const { dir, ref, target, timeout } = parsed.values as Record<string, string | undefined>;
    if (!dir) throw new UsageError("--dir <directory> is required");
    const timeoutMs = Number(timeout ?? 900) * 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError("--timeout must be a number of seconds");
    const deployment = await deploy({ api: parsed.api, appId: parsed.appId, dir, ref, target, timeoutMs }, io);
    if (deployment.status === "SUCCEEDED") {
      io.out.write(`Deployed: release ${deployment.release?.id ?? "?"}, artifact sha256 ${deployment.artifact?.sha256 ?? "?"}\n`);
      return 0;
    }
    io.err.write(`deploy: the deployment ended ${deployment.status}: ${deployment.failureReason ?? "no reason given"}\n`);
    return 1;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err.write(`deploy: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof ApiError || error instanceof UploadRefused) {
      io.err.write(`deploy: ${error.message}\n`);
      return 1;
    }
    io.err.write(`deploy: ${(error as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exit(await main(process.argv.slice(2)));
