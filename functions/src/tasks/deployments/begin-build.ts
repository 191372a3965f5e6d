import { beginBuild } from "@bulkhead/core/deployments/steps/build";
import { defineTask, deploymentIds } from "@bulkhead/core/workflows/task-handler";

export const handler = defineTask("deployments.begin-build", deploymentIds, beginBuild);
