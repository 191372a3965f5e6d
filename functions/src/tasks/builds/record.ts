import { z } from "zod";
import { recordArtifact } from "@bulkhead/core/deployments/steps";
import { defineTask, deploymentIds } from "@bulkhead/core/workflows/task-handler";

const input = deploymentIds.extend({
  artifactLocation: z.string().min(1),
  artifactSha256: z.string().regex(/^[0-9a-fA-F]{64}$/),
  logGroup: z.string().min(1),
  logStreamPrefix: z.string().min(1),
});

export const handler = defineTask("builds.record", input, ({ org, appId, deploymentId, ...build }) =>
  recordArtifact({ org, appId, deploymentId }, build));
