import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { isTask, type StateMachineDefinition } from "@bulkhead/core/workflows/asl";
import { codeBuildStartBuildSync } from "@bulkhead/core/workflows/deployment-machine";
import { taskFile, tasks, type TaskId, type TaskResources } from "@bulkhead/core/workflows/tasks";
import { lambdaContext } from "../lambda-context.ts";

type TaskHandler = (event: unknown, context: Context) => Promise<unknown>;
export type LocalHandler = (input: unknown) => Promise<unknown>;

/** Loads a task's Lambda handler: the same module the deployed function runs. */
export async function loadTask(root: string, id: TaskId): Promise<LocalHandler> {
  const module = await import(pathToFileURL(join(root, taskFile({ id }))).href) as { handler: TaskHandler };
  const functionName = `bulkhead-offline-${id.replace(/[^a-z0-9]+/g, "-")}`;
  let invocation = 0;
  return (input) => module.handler(input, lambdaContext(functionName, `${functionName}-${++invocation}`));
}

/**
 * Binds every Task state of a definition to what runs it offline, by the state's own Resource:
 * a Lambda ARN from `resources` runs that task's handler module; CodeBuild's startBuild.sync runs
 * the sandbox stand-in. A Task state with any other resource is an error here, not at run time.
 */
export async function bindTaskStates(
  definition: StateMachineDefinition,
  options: { root: string; resources: TaskResources; startBuildSync: LocalHandler },
): Promise<Record<string, LocalHandler>> {
  const taskByArn = new Map(Object.entries(options.resources).map(([id, arn]) => [arn, id as TaskId]));
  const startBuildSync = codeBuildStartBuildSync(options.resources);
  const handlers: Record<string, LocalHandler> = {};
  for (const [stateName, state] of Object.entries(definition.States)) {
    if (!isTask(state)) continue;
    if (state.Resource === startBuildSync) {
      handlers[stateName] = options.startBuildSync;
      continue;
    }
    const id = taskByArn.get(state.Resource);
    if (!id || !tasks.some((t) => t.id === id)) throw new Error(`state ${stateName}: no offline binding for resource ${state.Resource}`);
    handlers[stateName] = await loadTask(options.root, id);
  }
  return handlers;
}
