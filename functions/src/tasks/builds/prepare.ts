import * as z from "zod/mini";
import { prepareBuild } from "@bulkhead/core/deployments/steps/build";
import { defineTask, deploymentIds } from "@bulkhead/core/workflows/task-handler";

const minutes = z.int().check(z.positive());
const input = z.extend(deploymentIds, { timeoutMinutes: minutes, queuedTimeoutMinutes: minutes });

export const handler = defineTask("builds.prepare", input, ({ timeoutMinutes, queuedTimeoutMinutes, ...ids }) =>
  prepareBuild(ids, { timeoutMinutes, queuedTimeoutMinutes }));
