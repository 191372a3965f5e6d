import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArtifactLocation } from "@bulkhead/core/deployments/names";
import type { TargetDeployerPort } from "@bulkhead/core/deployments/ports";
import { taskError } from "@bulkhead/core/workflows/errors";
import type { LocalObjectStore } from "./object-store.ts";
import { isAllowed } from "./policy-evaluation.ts";
import { StandInAccessDenied, type StsStandIn } from "./sts.ts";

/**
 * Offline stand-in for a deploy target. It accepts a release only with credentials the STS
 * stand-in issued for this target's role, unexpired, tagged with the release's org and app, and
 * whose session policy allows updating this app's function and reading this artifact. It checks
 * the artifact's SHA-256, then writes the release under `<root>/<target>/<org>/<app>/`:
 * `releases/<deploymentId>.json` and `live.json` (what is deployed now). No credential is written.
 */
export type TargetStandIn = TargetDeployerPort & { releaseDir: (targetId: string, org: string, appId: string) => string };

export function targetStandIn(options: { root: string; sts: StsStandIn; store: LocalObjectStore }): TargetStandIn {
  const releaseDir = (targetId: string, org: string, appId: string) => join(options.root, targetId, org, appId);
  return {
    releaseDir,
    async apply({ target, names, deploymentId, artifact, credentials }) {
      const session = options.sts.session(credentials);
      if (!session || session.roleArn !== target.roleArn) throw new StandInAccessDenied("The security token included in the request is invalid");
      if (session.tags.org !== names.org || session.tags.app !== names.app) throw new StandInAccessDenied("session tags do not match the app");
      const functionArn = `arn:aws:lambda:${target.region}:${target.accountId}:function:${names.releaseFunction}`;
      const location = parseArtifactLocation(artifact.location);
      if (!location) throw taskError("internal", "the artifact location is not an S3 object");
      for (const [action, resource] of [
        ["lambda:UpdateFunctionCode", functionArn],
        ["lambda:UpdateAlias", `${functionArn}:${names.releaseAlias}`],
        ["s3:GetObject", `arn:aws:s3:::${location.bucket}/${location.key}`],
      ] as const) {
        if (!isAllowed(session.policy, action, resource)) {
          throw new StandInAccessDenied(`not authorized to perform: ${action} on resource: ${resource} (session policy)`);
        }
      }
      const file = options.store.path(location.bucket, location.key);
      if (!existsSync(file)) throw taskError("internal", "the artifact is missing from the object store");
      const sha256 = createHash("sha256").update(readFileSync(file)).digest("hex");
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
