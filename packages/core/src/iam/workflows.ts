import { tasks, type TaskDef, type TaskNeed } from "../workflows/tasks.ts";
import { ARTIFACT_BUCKET_READS, ARTIFACT_WRITE_ACTIONS, BUILD_LOG_ACTIONS, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS } from "./app-roles.ts";
import { arn, type AwsLocation } from "./arn.ts";
import { deployerStatements } from "./deploy.ts";
import { policyDocument, type PolicyDocument, type RoleDocuments, type Statement } from "./document.ts";
import { denyScan } from "./dynamodb.ts";
import { BUILD_ROLE_PATH, type PlatformNames } from "./names.ts";
import { readBuildLogs, tenantDataAccess } from "./platform.ts";
import { lambdaTrust } from "./trust.ts";

/** deployments/cloud/iam.ts creates every per-app build role (app-roles.ts appBuildRole) under this path. */
export { BUILD_ROLE_PATH };

/**
 * The rule Step Functions itself creates and uses to learn that a `codebuild:startBuild.sync`
 * build ended. AWS fixes its name; the state machine's role needs it.
 */
export const CODEBUILD_SYNC_RULE = "StepFunctionsGetEventForCodeBuildStartBuildRule";

const BUILD_ROLE_WRITES = ["iam:CreateRole", "iam:PutRolePolicy"] as const;
const BUILD_ROLE_UPKEEP = ["iam:GetRole", "iam:TagRole", "iam:UpdateAssumeRolePolicy"] as const;

export type WorkflowRoleInput = { location: AwsLocation; platform: PlatformNames };

const boundaryArn = (i: WorkflowRoleInput) => arn.managedPolicy(i.location, i.platform.buildRoleBoundary);

/** The statements each task need (workflows/tasks.ts) stands for; `table` is the tenant data role. */
function needStatements(i: WorkflowRoleInput, need: TaskNeed): Statement[] {
  const { location: l, platform } = i;
  const buildRoles = arn.rolesUnder(l, BUILD_ROLE_PATH);
  switch (need) {
    case "table":
      return tenantDataAccess(l, platform);
    case "iam:build-roles":
      return [
        // Every role the task creates or rewrites is capped by the build boundary, so a compromised
        // task cannot mint a role stronger than a build's (and it holds no right to remove the boundary).
        {
          Sid: "WriteBuildRolesWithinBoundary",
          Effect: "Allow",
          Action: [...BUILD_ROLE_WRITES],
          Resource: [buildRoles],
          Condition: { StringEquals: { "iam:PermissionsBoundary": boundaryArn(i) } },
        },
        { Sid: "KeepBuildRoles", Effect: "Allow", Action: [...BUILD_ROLE_UPKEEP], Resource: [buildRoles] },
      ];
    case "codebuild:builds":
      return [{
        Sid: "StopDeploymentBuilds",
        Effect: "Allow",
        Action: ["codebuild:ListBuildsForProject", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
        Resource: [arn.codeBuildProject(l, platform.buildProject)],
      }];
    case "logs:build-logs":
      return [readBuildLogs(l)];
    case "sts:target-roles":
      return deployerStatements(l, platform);
    case "states:start":
      return [{ Sid: "StartDeployments", Effect: "Allow", Action: ["states:StartExecution"], Resource: [arn.stateMachine(l, platform.deploymentStateMachine)] }];
  }
}

/** The task that assumes deploy targets' roles runs as the platform deployer (their trust names it). */
const isDeployer = (task: Pick<TaskDef, "needs">) => task.needs.includes("sts:target-roles");

/** A workflow task function's role name: the deployer's for the task that assumes targets, its own otherwise. */
export const taskRoleName = (platform: PlatformNames, task: Pick<TaskDef, "id" | "needs">): string =>
  isDeployer(task) ? platform.deployerRole : platform.taskRole(task.id);

/**
 * A workflow task function's execution role: its own log group and the statements of its
 * declared needs, nothing else. Scan is denied as for every platform identity.
 */
export function taskRole(input: WorkflowRoleInput & { task: Pick<TaskDef, "id" | "needs" | "summary"> }): RoleDocuments {
  const { location: l, platform, task } = input;
  const table = arn.table(l, platform.table);
  const statements: Statement[] = [
    { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [arn.logStreams(l, platform.taskLogGroup(task.id))] },
    ...task.needs.flatMap((need) => needStatements(input, need)),
    denyScan([table, arn.tableIndexes(l, platform.table)]),
  ];
  const name = taskRoleName(platform, task);
  return {
    kind: "role",
    name,
    arn: arn.role(l, name),
    description: `Workflow task ${task.id}${isDeployer(task) ? " (the platform deployer)" : ""}`,
    policy: policyDocument(statements),
    trust: lambdaTrust(),
    sessionTags: [],
  };
}

/** The roles of every task of the task table, by task id. */
export const taskRoles = (input: WorkflowRoleInput): Record<string, RoleDocuments> =>
  Object.fromEntries(tasks.map((task) => [task.id, taskRole({ ...input, task })]));

/**
 * The deployment state machine's role: invoke its task functions, run builds in the build project
 * (passing only per-app build roles, only to CodeBuild), and the managed rule `.sync` needs.
 */
export function deploymentMachineRole(input: WorkflowRoleInput): RoleDocuments {
  const { location: l, platform } = input;
  const name = platform.deploymentMachineRole;
  const machine = arn.stateMachine(l, platform.deploymentStateMachine);
  const taskFunctions = tasks.filter((t) => t.invokedBy === "state").map((t) => arn.lambda(l, platform.taskFunction(t.id)));
  const policy = policyDocument([
    { Sid: "InvokeTasks", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: taskFunctions },
    { Sid: "RunBuilds", Effect: "Allow", Action: ["codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds"], Resource: [arn.codeBuildProject(l, platform.buildProject)] },
    { Sid: "SyncBuildRule", Effect: "Allow", Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"], Resource: [arn.eventRule(l, CODEBUILD_SYNC_RULE)] },
    {
      Sid: "PassBuildRolesToCodeBuild",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: [arn.rolesUnder(l, BUILD_ROLE_PATH)],
      Condition: { StringEquals: { "iam:PassedToService": "codebuild.amazonaws.com" } },
    },
  ]);
  const trust = policyDocument([{
    Sid: "StepFunctionsForThisMachine",
    Effect: "Allow",
    Principal: { Service: "states.amazonaws.com" },
    Action: ["sts:AssumeRole"],
    Condition: { StringEquals: { "aws:SourceAccount": l.account }, ArnLike: { "aws:SourceArn": machine } },
  }]);
  return { kind: "role", name, arn: arn.role(l, name), description: "The deployment state machine", policy, trust, sessionTags: [] };
}

/**
 * The build project's own role. Every build runs under its app's role (ServiceRoleOverride), so
 * this one is trusted by CodeBuild for this project and allowed nothing.
 */
export function buildProjectRoleTrust(input: WorkflowRoleInput): PolicyDocument {
  const { location: l, platform } = input;
  return policyDocument([{
    Sid: "CodeBuildForThisProject",
    Effect: "Allow",
    Principal: { Service: "codebuild.amazonaws.com" },
    Action: ["sts:AssumeRole"],
    Condition: { StringEquals: { "aws:SourceAccount": l.account }, ArnLike: { "aws:SourceArn": arn.codeBuildProject(l, platform.buildProject) } },
  }]);
}

/**
 * The permissions boundary of every per-app build role: the union of what any app's build may do
 * (app-roles.ts appBuildRole narrows each role to its own app inside it). A build role can never
 * exceed it, whatever policy the prepare task writes.
 */
export function buildRoleBoundary(input: WorkflowRoleInput): PolicyDocument {
  const { location: l, platform } = input;
  const bucket = platform.artifactBucket;
  return policyDocument([
    { Sid: "AppSourcesAndArtifacts", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion", ...ARTIFACT_WRITE_ACTIONS], Resource: [`${arn.bucket(l, bucket)}/*`] },
    { Sid: "ArtifactBucket", Effect: "Allow", Action: ["s3:ListBucket", ...ARTIFACT_BUCKET_READS], Resource: [arn.bucket(l, bucket)] },
    {
      Sid: "AppBuildLogs",
      Effect: "Allow",
      Action: [...BUILD_LOG_ACTIONS],
      Resource: [arn.logGroup(l, "/bulkhead/*/build"), arn.logStreams(l, "/bulkhead/*/build")],
    },
    { Sid: "AppImages", Effect: "Allow", Action: [...ECR_PUSH_ACTIONS, ...ECR_PULL_ACTIONS], Resource: [arn.repository(l, "bulkhead/*")] },
    // AWS requires "*": GetAuthorizationToken has no resource type; pushes are checked by AppImages.
    { Sid: "RegistryLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
  ]);
}
