import { execFile } from "node:child_process";
import { parseArgs } from "node:util";
import { Route53Client } from "@aws-sdk/client-route-53";
import { STSClient } from "@aws-sdk/client-sts";
import { preflight, report, stageEnvironment, type CommandResult } from "../preflight/checks.ts";
import { REPO_ROOT } from "../runtime.ts";

const USAGE = "usage: npm run preflight -- --stage <name>   (with AWS credentials for the target account)";

/** Runs a command in the project root; its output stays here (SST's secret listing holds values). */
function run(command: string, args: string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: REPO_ROOT, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ exitCode, stdout, stderr: stderr || (error && exitCode !== 0 ? error.message.split("\n")[0]! : "") });
    });
  });
}

/** Exit 0 when every check passes, 1 when one does not, 2 on a usage error. */
async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { stage: { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true });
  const stage = values.stage ?? process.env.SST_STAGE;
  if (values.help || !stage) {
    console.error(`${USAGE}\n(sst dev without --stage names a personal stage after your user name; name it yourself)`);
    return values.help ? 0 : 2;
  }
  const env = stageEnvironment(REPO_ROOT, stage, process.env);
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const results = await preflight(stage, {
    env,
    run,
    fetch: globalThis.fetch,
    sts: new STSClient(region ? { region } : {}),
    route53: new Route53Client({ region: "us-east-1" }),
  });
  console.log(report(stage, results));
  return results.every((r) => r.status === "pass") ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2)).catch((error: Error) => {
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  });
}
