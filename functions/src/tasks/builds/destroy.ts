import * as z from "zod/mini";
import { destroyBuildEnvironment } from "@bulkhead/core/deployments/steps/build";
import { defineTask, deploymentIds, nonEmptyString } from "@bulkhead/core/workflows/task-handler";

export const handler = defineTask("builds.destroy", z.extend(deploymentIds, { projectName: nonEmptyString }),
  ({ projectName, ...ids }) => destroyBuildEnvironment(ids, projectName));
