import { z } from "zod";
import { prepareBuild } from "@bulkhead/core/deployments/steps";
import { defineTask, deploymentIds } from "@bulkhead/core/workflows/task-handler";

const input = deploymentIds.extend({ timeoutMinutes: z.number().int().positive(), queuedTimeoutMinutes: z.number().int().positive() });

export const handler = defineTask("builds.prepare", input, ({ timeoutMinutes, queuedTimeoutMinutes, ...ids }) =>
  prepareBuild(ids, { timeoutMinutes, queuedTimeoutMinutes }));
