import { z } from "zod";
import { recordSuccess } from "@bulkhead/core/deployments/steps";
import { defineTask, deploymentIds } from "@bulkhead/core/workflows/task-handler";

const input = deploymentIds.extend({ releaseId: z.string().min(1), appliedAt: z.iso.datetime() });

export const handler = defineTask("deployments.succeed", input, ({ org, appId, deploymentId, ...release }) =>
  recordSuccess({ org, appId, deploymentId }, release));
