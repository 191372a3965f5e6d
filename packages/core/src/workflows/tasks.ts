/**
 * The one table of workflow task handlers: Lambda functions that are not HTTP routes. Infra
 * declares one function per entry (and grants it `needs`), the deployment state machine points
 * its Task states at them, and the offline runtime binds the same modules to those states.
 * A task's handler lives at `functions/src/tasks/<id with "." as "/">.ts` and exports `handler`.
 */
export type TaskNeed =
  | "table" // read/write the tenant table
  | "iam:build-roles" // create and update roles under the build role path
  | "codebuild:builds" // list, read and stop builds of the build project
  | "logs:build-logs" // read log groups under /bulkhead/
  | "sts:target-roles" // assume (and tag sessions of) deploy-target roles
  | "states:start"; // start executions of the deployment state machine

export type TaskDef = {
  readonly id: string;
  readonly summary: string;
  /** `state`: a Task state invokes it. `execution-closed`: EventBridge, on executions that end without recording. */
  readonly invokedBy: "state" | "execution-closed";
  readonly needs: readonly TaskNeed[];
};

export const tasks = [
  { id: "deployments.begin-build", invokedBy: "state", needs: ["table"],
    summary: "Move the deployment from QUEUED to BUILDING" },
  { id: "builds.prepare", invokedBy: "state", needs: ["table", "iam:build-roles"],
    summary: "Prepare the per-app build spec and ensure the app's narrowly scoped build role" },
  { id: "builds.destroy", invokedBy: "state", needs: ["table", "codebuild:builds"],
    summary: "Destroy the deployment's build environment, whatever the build's outcome" },
  { id: "builds.record", invokedBy: "state", needs: ["table", "logs:build-logs"],
    summary: "Record the artifact and the build log excerpt; move BUILDING to DEPLOYING" },
  { id: "deploys.check-target", invokedBy: "state", needs: ["table"],
    summary: "Check the target and the grant" },
  { id: "deploys.apply", invokedBy: "state", needs: ["table", "sts:target-roles"],
    summary: "Assume the target's deploy role and apply the release with those credentials" },
  { id: "deployments.succeed", invokedBy: "state", needs: ["table"],
    summary: "Record the release; DEPLOYING to SUCCEEDED" },
  { id: "deployments.fail", invokedBy: "state", needs: ["table", "logs:build-logs"],
    summary: "Record the failure reason; any active status to FAILED" },
  { id: "deployments.execution-closed", invokedBy: "execution-closed", needs: ["table", "codebuild:builds"],
    summary: "An execution ended aborted, timed out or failed: destroy its build environment, fail its deployment if still active" },
] as const satisfies readonly TaskDef[];

export type TaskId = (typeof tasks)[number]["id"];
export type StateTaskId = Extract<(typeof tasks)[number], { invokedBy: "state" }>["id"];

export const taskFile = (task: Pick<TaskDef, "id">): string => `functions/src/tasks/${task.id.replace(".", "/")}.ts`;

/** Function names used offline and in printed definitions, where no deployed ARN exists. */
export const placeholderTaskArn = (id: TaskId): string =>
  `arn:aws:lambda:us-east-1:000000000000:function:bulkhead-${id.replace(/[^a-z0-9]+/g, "-")}`;

export type TaskResources = Record<StateTaskId, string>;

export function placeholderTaskResources(): TaskResources {
  const resources: Partial<TaskResources> = {};
  for (const task of tasks) if (task.invokedBy === "state") resources[task.id] = placeholderTaskArn(task.id);
  return resources as TaskResources;
}
