import type { StateMachineDefinition } from "./asl.ts";
import { deploymentStateMachine } from "./deployment-machine.ts";
import type { WorkflowOptions } from "./options.ts";
import type { TaskResources } from "./tasks.ts";

/** Every state machine the platform deploys: infra iterates this, `npm run workflows:print` prints it. */
export const stateMachines = {
  Deployment: deploymentStateMachine,
} as const satisfies Record<string, (options: WorkflowOptions, resources: TaskResources) => StateMachineDefinition>;

export type StateMachineName = keyof typeof stateMachines;
