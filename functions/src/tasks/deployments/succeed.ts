import * as z from "zod/mini";
import { recordSuccess } from "@bulkhead/core/deployments/steps/endings";
import { defineTask, deploymentIds, nonEmptyString } from "@bulkhead/core/workflows/task-handler";

const input = z.extend(deploymentIds, { releaseId: nonEmptyString, appliedAt: z.iso.datetime() });

export const handler = defineTask("deployments.succeed", input, ({ org, appId, deploymentId, ...release }) =>
  recordSuccess({ org, appId, deploymentId }, release));
