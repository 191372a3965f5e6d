import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TargetDeployerPort } from "@bulkhead/core/deployments/ports";
import { taskError } from "@bulkhead/core/workflows/errors";
import { isAllowed } from "./policy-evaluation.ts";
import { StandInAccessDenied, type StsStandIn } from "./sts.ts";

/** Lambda's own limits, which the stand-in applies independently of the platform's constant. */
const LAMBDA_ZIP_FILE_MAX_BYTES = 50 * 1024 * 1024;
const LAMBDA_REQUEST_MAX_BYTES = Math.ceil((LAMBDA_ZIP_FILE_MAX_BYTES * 4) / 3);

/**
 * Offline stand-in for a deploy target (Lambda UpdateFunctionCode with `ZipFile`, then the
 * alias). It accepts a release only with credentials the STS stand-in issued for this target's
 * role, unexpired, tagged with the release's org and app, and whose session policy allows
 * updating this app's function; code over Lambda's direct-upload limit is refused as Lambda
 * refuses it. It checks the uploaded code's SHA-256, then writes the release under
 * `<root>/<target>/<org>/<app>/`: `releases/<deploymentId>.json` and `live.json` (what is
 * deployed now). No credential is written.
 */
export type TargetStandIn = TargetDeployerPort & { releaseDir: (targetId: string, org: string, appId: string) => string };

class StandInRequestTooLarge extends Error {
  override readonly name = "RequestEntityTooLargeException";
  readonly $metadata = { httpStatusCode: 413 };
}

export function targetStandIn(options: { root: string; sts: StsStandIn }): TargetStandIn {
  const releaseDir = (targetId: string, org: string, appId: string) => join(options.root, targetId, org, appId);
  return {
    releaseDir,
    async apply({ target, names, deploymentId, artifact, code, credentials }) {
      const session = options.sts.session(credentials);
      if (!session || session.roleArn !== target.roleArn) throw new StandInAccessDenied("The security token included in the request is invalid");
      if (session.tags.org !== names.org || session.tags.app !== names.app) throw new StandInAccessDenied("session tags do not match the app");
      const functionArn = `arn:aws:lambda:${target.region}:${target.accountId}:function:${names.releaseFunction}`;
      for (const [action, resource] of [
        ["lambda:UpdateFunctionCode", functionArn],
        ["lambda:UpdateAlias", `${functionArn}:${names.releaseAlias}`],
      ] as const) {
        if (!isAllowed(session.policy, action, resource)) {
          throw new StandInAccessDenied(`not authorized to perform: ${action} on resource: ${resource} (session policy)`);
        }
      }
      if (code.length > LAMBDA_ZIP_FILE_MAX_BYTES) throw new StandInRequestTooLarge(`Request must be smaller than ${LAMBDA_REQUEST_MAX_BYTES} bytes for the UpdateFunctionCode operation`);
      const sha256 = createHash("sha256").update(code).digest("hex");
      if (sha256 !== artifact.sha256) throw taskError("releaseMismatch", "the target's code does not match the built artifact's SHA-256");

      const dir = releaseDir(target.id, names.org, names.app);
      mkdirSync(join(dir, "releases"), { recursive: true });
      const release = {
        deploymentId,
        artifact: { location: artifact.location, sha256 },
        function: functionArn,
        alias: names.releaseAlias,
        session: { roleArn: session.roleArn, sessionName: session.sessionName, tags: session.tags },
        appliedAt: new Date().toISOString(),
      };
      writeFileSync(join(dir, "releases", `${deploymentId}.json`), `${JSON.stringify(release, null, 2)}\n`);
      writeFileSync(join(dir, "live.json.tmp"), `${JSON.stringify(release, null, 2)}\n`);
      renameSync(join(dir, "live.json.tmp"), join(dir, "live.json"));
      return { releaseId: `${names.releaseFunction}:${deploymentId}` };
    },
  };
}
