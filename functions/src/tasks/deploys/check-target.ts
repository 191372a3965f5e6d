import { checkTarget } from "@bulkhead/core/deployments/steps/deploy";
import { defineTask, deploymentIds } from "@bulkhead/core/workflows/task-handler";

export const handler = defineTask("deploys.check-target", deploymentIds, checkTarget);
