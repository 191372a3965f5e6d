import * as z from "zod/mini";
import { recordArtifact } from "@bulkhead/core/deployments/steps/build";
import { defineTask, deploymentIds, nonEmptyString, sha256Hex } from "@bulkhead/core/workflows/task-handler";

const input = z.extend(deploymentIds, {
  artifactLocation: nonEmptyString,
  artifactSha256: sha256Hex,
  logGroup: nonEmptyString,
  logStreamPrefix: nonEmptyString,
});

export const handler = defineTask("builds.record", input, ({ org, appId, deploymentId, ...build }) =>
  recordArtifact({ org, appId, deploymentId }, build));
