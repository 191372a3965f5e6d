/// <reference path="../.sst/platform/config.d.ts" />
/**
 * The deployment workflows' infrastructure, as one function for sst.config.ts to call (this file
 * does not edit sst.config.ts; infra/ is owned by the infra work). NOT type-checked here and
 * never deployed from this repository: the SST CLI needs network downloads. Read it as the
 * declaration the workflows expect; the names match packages/core/src/deployments/config.ts.
 *
 *   const deployments = workflows({ table });
 *   // route functions link deployments.link; deployments.create / .cancel also get
 *   // deployments.routePermissions[route.id]
 */
import { stateMachines } from "../packages/core/src/workflows/machines";
import { executionTimeoutSeconds, PRODUCTION_WORKFLOW_OPTIONS, runBuildTimeoutSeconds } from "../packages/core/src/workflows/options";
import { taskFile, tasks, type StateTaskId, type TaskNeed, type TaskResources } from "../packages/core/src/workflows/tasks";

const BUILD_ROLE_PATH = "/bulkhead/build/";

export function workflows(args: { table: sst.aws.Dynamo }) {
  const options = PRODUCTION_WORKFLOW_OPTIONS;
  const identity = aws.getCallerIdentityOutput({});
  const region = aws.getRegionOutput({});
  const account = identity.accountId;
  const prefix = `${$app.name}-${$app.stage}`;
  // Named, not generated, so the task functions can link the ARN without a cycle through the definition.
  const stateMachineName = `${prefix}-Deployment`;
  const stateMachineArn = $interpolate`arn:aws:states:${region.name}:${account}:stateMachine:${stateMachineName}`;

  const artifacts = new sst.aws.Bucket("Artifacts");

  // The project's own role can do nothing: every build runs under its app's role (ServiceRoleOverride).
  const inertBuildRole = new aws.iam.Role("BuildProjectDefaultRole", {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "codebuild.amazonaws.com" }),
  });
  const buildProject = new aws.codebuild.Project("Build", {
    name: `${prefix}-build`,
    serviceRole: inertBuildRole.arn,
    artifacts: { type: "NO_ARTIFACTS" },
    source: { type: "NO_SOURCE", buildspec: "version: 0.2\nphases:\n  build:\n    commands:\n      - exit 1\n" },
    environment: { type: "LINUX_CONTAINER", computeType: "BUILD_GENERAL1_SMALL", image: "aws/codebuild/standard:7.0" },
    buildTimeout: options.build.timeoutMinutes,
    queuedTimeout: options.build.queuedTimeoutMinutes,
  });

  const externalId = new sst.Secret("HostedTargetExternalId"); // ≥ 32 random characters, set per stage
  // The platform's own account as a target. Trusting the account delegates to IAM: only the apply
  // task holds sts:AssumeRole on it (need "sts:target-roles"), and only with the ExternalId and tags.
  const hostedDeployRole = new aws.iam.Role("HostedDeployRole", {
    path: "/bulkhead/deploy/",
    maxSessionDuration: 3600,
    assumeRolePolicy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: { AWS: $interpolate`arn:aws:iam::${account}:root` },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: { StringEquals: { "sts:ExternalId": externalId.value }, "ForAllValues:StringEquals": { "aws:TagKeys": ["org", "app", "deployment"] } },
      }],
    }),
    inlinePolicies: [{
      name: "deploy-app-functions",
      policy: $jsonStringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["lambda:GetFunction", "lambda:UpdateFunctionCode", "lambda:PublishVersion", "lambda:GetAlias", "lambda:UpdateAlias"],
            Resource: [$interpolate`arn:aws:lambda:${region.name}:${account}:function:bh-*`] },
          { Effect: "Allow", Action: "s3:GetObject", Resource: $interpolate`${artifacts.arn}/*` },
        ],
      }),
    }],
  });

  const deployments = new sst.Linkable("Deployments", {
    properties: {
      region: region.name,
      accountId: account,
      stateMachineArn,
      buildProject: buildProject.name,
      artifactBucket: artifacts.name,
      buildRolePath: BUILD_ROLE_PATH,
      hostedTargetRoleArn: hostedDeployRole.arn,
      hostedTargetRegion: region.name,
    },
  });

  const permissions: Record<TaskNeed, sst.aws.FunctionArgs["permissions"]> = {
    table: [],
    "iam:build-roles": [
      { actions: ["iam:GetRole", "iam:CreateRole", "iam:TagRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"],
        resources: [$interpolate`arn:aws:iam::${account}:role${BUILD_ROLE_PATH}*`] },
    ],
    "codebuild:builds": [
      { actions: ["codebuild:ListBuildsForProject", "codebuild:BatchGetBuilds", "codebuild:StopBuild"], resources: [buildProject.arn] },
    ],
    "logs:build-logs": [
      { actions: ["logs:DescribeLogStreams", "logs:GetLogEvents"], resources: [$interpolate`arn:aws:logs:${region.name}:${account}:log-group:/bulkhead/*`] },
    ],
    "sts:target-roles": [{ actions: ["sts:AssumeRole", "sts:TagSession"], resources: ["arn:aws:iam::*:role/*"] }],
    "states:start": [{ actions: ["states:StartExecution"], resources: [stateMachineArn] }],
  };

  const lambdaTimeoutSeconds = (id: string): number =>
    id === "deploys.apply" ? options.timeouts.applySeconds
      : id === "builds.prepare" || id === "deployments.execution-closed" ? options.timeouts.prepareBuildSeconds
        : options.timeouts.stepSeconds;

  const functions = Object.fromEntries(tasks.map((task) => {
    const fn = new sst.aws.Function(`Task${task.id.replace(/(^|[.-])(\w)/g, (_, __, c: string) => c.toUpperCase())}`, {
      handler: taskFile(task).replace(/\.ts$/, ".handler"),
      runtime: "nodejs22.x",
      // Never longer than the state's TimeoutSeconds, so a state never outlives its invocation unnoticed.
      timeout: `${lambdaTimeoutSeconds(task.id)} seconds`,
      link: [args.table, deployments, externalId],
      permissions: task.needs.flatMap((need) => permissions[need] ?? []),
    });
    return [task.id, fn];
  }));

  const resources = $resolve(
    tasks.filter((t) => t.invokedBy === "state").map((t) => functions[t.id]!.arn),
  ).apply((arns) => Object.fromEntries(tasks.filter((t) => t.invokedBy === "state").map((t, i) => [t.id, arns[i]])) as TaskResources);

  const machineRole = new aws.iam.Role("DeploymentMachineRole", {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "states.amazonaws.com" }),
    inlinePolicies: [{
      name: "deployment",
      policy: $jsonStringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "lambda:InvokeFunction",
            Resource: tasks.filter((t) => t.invokedBy === "state").map((t) => functions[t.id as StateTaskId]!.arn) },
          { Effect: "Allow", Action: ["codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds"], Resource: buildProject.arn },
          { Effect: "Allow", Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            Resource: $interpolate`arn:aws:events:${region.name}:${account}:rule/StepFunctionsGetEventForCodeBuildStartBuildRule` },
          { Effect: "Allow", Action: "iam:PassRole", Resource: $interpolate`arn:aws:iam::${account}:role${BUILD_ROLE_PATH}*`,
            Condition: { StringEquals: { "iam:PassedToService": "codebuild.amazonaws.com" } } },
        ],
      }),
    }],
  });

  // The same JSON `npm run workflows:print` shows and the offline runtime executes.
  new aws.sfn.StateMachine("Deployment", {
    name: stateMachineName,
    roleArn: machineRole.arn,
    type: "STANDARD",
    definition: resources.apply((arns) => JSON.stringify(stateMachines.Deployment(options, arns))),
  });

  // Executions that end without recording (stopped, timed out, failed outside a Catch).
  const closed = new aws.cloudwatch.EventRule("DeploymentExecutionClosed", {
    eventPattern: $jsonStringify({
      source: ["aws.states"],
      "detail-type": ["Step Functions Execution Status Change"],
      detail: { stateMachineArn: [stateMachineArn], status: ["ABORTED", "TIMED_OUT", "FAILED"] },
    }),
  });
  const onClosed = functions["deployments.execution-closed"]!;
  new aws.cloudwatch.EventTarget("DeploymentExecutionClosedTarget", { rule: closed.name, arn: onClosed.arn });
  new aws.lambda.Permission("DeploymentExecutionClosedInvoke", {
    action: "lambda:InvokeFunction", function: onClosed.name, principal: "events.amazonaws.com", sourceArn: closed.arn,
  });

  return {
    link: [deployments, externalId],
    routePermissions: {
      "deployments.create": [{ actions: ["states:StartExecution"], resources: [stateMachineArn] }],
      "deployments.cancel": [{ actions: ["states:StopExecution"], resources: [$interpolate`arn:aws:states:${region.name}:${account}:execution:${stateMachineName}:*`] }],
    },
    limits: { runBuildSeconds: runBuildTimeoutSeconds(options), executionSeconds: executionTimeoutSeconds(options) },
  };
}
