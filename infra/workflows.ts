import { arn } from "../packages/core/src/iam/arn.ts";
import { artifactReaderRole } from "../packages/core/src/iam/artifact-reader.ts";
import { hostedDeployRole } from "../packages/core/src/iam/deploy.ts";
import type { RoleDocuments } from "../packages/core/src/iam/document.ts";
import { buildProjectRoleTrust, buildRoleBoundary, deploymentMachineRole, taskRole } from "../packages/core/src/iam/workflows.ts";
import { stateMachines } from "../packages/core/src/workflows/machines.ts";
import { PRODUCTION_WORKFLOW_OPTIONS } from "../packages/core/src/workflows/options.ts";
import { taskFile, tasks, type TaskDef, type TaskResources } from "../packages/core/src/workflows/tasks.ts";
import { FUNCTION_DEFAULTS, logicalName, ownRole } from "./functions.ts";
import type { LinkName, Links } from "./links.ts";
import { roleArgs } from "./role-args.ts";
import type { Stage } from "./stage.ts";

/**
 * What each task's code reads through `Resource`; test/infra-contract.test.ts checks these against
 * each task's bundle, both ways. Tasks run no HTTP stack, so they read neither Platform nor Auth.
 */
const TENANT: readonly LinkName[] = ["Table", "TenantData"];
const DEPLOYMENTS: readonly LinkName[] = ["Deployments", "HostedTargetExternalId"];
const TASK_LINKS: Record<(typeof tasks)[number]["id"], readonly LinkName[]> = {
  "deployments.begin-build": TENANT,
  "builds.prepare": [...TENANT, ...DEPLOYMENTS],
  "builds.destroy": [...TENANT, ...DEPLOYMENTS],
  "builds.record": [...TENANT, ...DEPLOYMENTS],
  "deploys.check-target": [...TENANT, ...DEPLOYMENTS],
  "deploys.apply": [...TENANT, ...DEPLOYMENTS],
  "deployments.succeed": TENANT,
  "deployments.fail": TENANT,
  "deployments.execution-closed": [...TENANT, ...DEPLOYMENTS],
};

/** A task's Lambda timeout never exceeds its state's TimeoutSeconds, so no invocation outlives its state unnoticed. */
function timeoutSeconds(task: Pick<TaskDef, "id">): number {
  const { timeouts } = PRODUCTION_WORKFLOW_OPTIONS;
  if (task.id === "deploys.apply") return timeouts.applySeconds;
  if (task.id === "builds.prepare" || task.id === "deployments.execution-closed") return timeouts.prepareBuildSeconds;
  return timeouts.stepSeconds;
}

/**
 * The deployment workflow: one function per entry of the task table (roles from the IAM module),
 * the build project (artifacts go to storage.ts's bucket, named by the stage and linked as
 * `Deployments.artifactBucket`), the per-app build roles' boundary, the hosted deploy target, the
 * artifact reader the apply task reads releases with, the state
 * machine from the shared ASL, and the EventBridge rule for executions that end without recording.
 */
export function deploymentWorkflow(stage: Stage, links: Links) {
  const { location, platform } = stage;
  const input = { location, platform };

  const taskFunctions = tasks.map((task) => {
    const role = taskRole({ ...input, task });
    const fn = new sst.aws.Function(`Task${logicalName(task.id)}Function`, {
      ...FUNCTION_DEFAULTS,
      name: platform.taskFunction(task.id),
      description: task.summary,
      handler: taskFile(task).replace(/\.ts$/, ".handler"),
      timeout: `${timeoutSeconds(task)} seconds`,
      link: TASK_LINKS[task.id].map((name) => links[name]),
      transform: { role: ownRole(role.name, role) },
    });
    return { task, fn, role };
  });

  new aws.iam.Policy("BuildRoleBoundary", {
    name: platform.buildRoleBoundary,
    description: "Permissions boundary of every per-app build role",
    policy: JSON.stringify(buildRoleBoundary(input)),
  });
  const buildProjectRole = new aws.iam.Role("BuildProjectRole", {
    name: platform.buildProjectRole,
    description: "Default role of the build project; every build runs under its app's own role instead",
    assumeRolePolicy: JSON.stringify(buildProjectRoleTrust(input)),
    inlinePolicies: [],
    managedPolicyArns: [],
  });
  const { build } = PRODUCTION_WORKFLOW_OPTIONS;
  new aws.codebuild.Project("BuildProject", {
    name: platform.buildProject,
    serviceRole: buildProjectRole.arn,
    artifacts: { type: "NO_ARTIFACTS" },
    // Every StartBuild overrides source, buildspec and artifacts; a build without overrides fails.
    source: { type: "NO_SOURCE", buildspec: "version: 0.2\nphases:\n  build:\n    commands:\n      - exit 1\n" },
    environment: { type: "LINUX_CONTAINER", computeType: "BUILD_GENERAL1_SMALL", image: "aws/codebuild/standard:7.0" },
    buildTimeout: build.timeoutMinutes,
    queuedTimeout: build.queuedTimeoutMinutes,
  });

  const externalId = links.HostedTargetExternalId.value;
  // The deployer is the apply task's role, which SST creates inside that task's function.
  const deployer = taskFunctions.find(({ task }) => task.id === "deploys.apply")!;
  // An ExternalId is not a secret to AWS (it is a trust-policy condition); it is kept as one so
  // only the apply task reads it.
  new aws.iam.Role("HostedDeployRole", roleArgs($output(externalId).apply((id) =>
    hostedDeployRole({ ...input, deployerRoleArn: arn.role(location, deployer.role.name), externalId: id }))),
    // IAM refuses a trust policy naming a role that does not exist yet.
    { dependsOn: [deployer.fn] });
  // The apply task reads each release's artifact through it; no deploy target reads the bucket.
  const artifactReader = artifactReaderRole(input);
  new aws.iam.Role("ArtifactReaderRole", roleArgs(artifactReader), { dependsOn: [deployer.fn] });

  const machineRole = new aws.iam.Role("DeploymentMachineRole", roleArgs(deploymentMachineRole(input)));
  const resources = Object.fromEntries(
    taskFunctions.filter(({ task }) => task.invokedBy === "state").map(({ task }) => [task.id, arn.lambda(location, platform.taskFunction(task.id))]),
  ) as TaskResources;
  // The same JSON `npm run workflows:print` shows and the offline runtime executes.
  const definition = stateMachines.Deployment(PRODUCTION_WORKFLOW_OPTIONS, resources);
  const machine = new aws.sfn.StateMachine("DeploymentStateMachine", {
    name: platform.deploymentStateMachine,
    type: "STANDARD",
    roleArn: machineRole.arn,
    definition: JSON.stringify(definition),
  }, { dependsOn: taskFunctions.map(({ fn }) => fn) });

  // Executions that end without recording (stopped, timed out, failed outside a Catch).
  const closed = taskFunctions.find(({ task }) => task.invokedBy === "execution-closed")!.fn;
  const rule = new aws.cloudwatch.EventRule("DeploymentExecutionClosed", {
    description: "Deployment executions that ended aborted, timed out or failed",
    eventPattern: JSON.stringify(executionClosedPattern(arn.stateMachine(location, platform.deploymentStateMachine))),
  });
  new aws.cloudwatch.EventTarget("DeploymentExecutionClosedTarget", { rule: rule.name, arn: closed.arn });
  new aws.lambda.Permission("DeploymentExecutionClosedInvoke", {
    action: "lambda:InvokeFunction",
    function: closed.name,
    principal: "events.amazonaws.com",
    sourceArn: rule.arn,
  });

  return { taskFunctions, machine, artifactReader };
}

/** The EventBridge pattern of the execution-closed task (its handler parses the same event). */
export const executionClosedPattern = (stateMachineArn: string) => ({
  source: ["aws.states"],
  "detail-type": ["Step Functions Execution Status Change"],
  detail: { stateMachineArn: [stateMachineArn], status: ["ABORTED", "TIMED_OUT", "FAILED"] },
});

export type DeploymentWorkflow = ReturnType<typeof deploymentWorkflow>;
