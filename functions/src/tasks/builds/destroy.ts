import { z } from "zod";
import { destroyBuildEnvironment } from "@bulkhead/core/deployments/steps";
import { defineTask, deploymentIds } from "@bulkhead/core/workflows/task-handler";

export const handler = defineTask("builds.destroy", deploymentIds.extend({ projectName: z.string().min(1) }),
  ({ projectName, ...ids }) => destroyBuildEnvironment(ids, projectName));
