import * as z from "zod/mini";
import { applyRelease } from "@bulkhead/core/deployments/steps/deploy";
import { defineTask, deploymentIds, nonEmptyString, sha256Hex } from "@bulkhead/core/workflows/task-handler";

const input = z.extend(deploymentIds, { artifactLocation: nonEmptyString, artifactSha256: sha256Hex });

export const handler = defineTask("deploys.apply", input, ({ org, appId, deploymentId, ...artifact }) =>
  applyRelease({ org, appId, deploymentId }, artifact));
