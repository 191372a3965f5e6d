import { z } from "zod";
import { applyRelease } from "@bulkhead/core/deployments/steps";
import { defineTask, deploymentIds } from "@bulkhead/core/workflows/task-handler";

const input = deploymentIds.extend({ artifactLocation: z.string().min(1), artifactSha256: z.string().regex(/^[0-9a-fA-F]{64}$/) });

export const handler = defineTask("deploys.apply", input, ({ org, appId, deploymentId, ...artifact }) =>
  applyRelease({ org, appId, deploymentId }, artifact));
