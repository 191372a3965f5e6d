import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DeploymentsConfig } from "@bulkhead/core/deployments/config";
import type { DeploymentPorts } from "@bulkhead/core/deployments/ports";
import { useDeploymentPorts } from "@bulkhead/core/deployments/select-ports";
import type { StateMachineDefinition } from "@bulkhead/core/workflows/asl";
import { deploymentStateMachine, STATES } from "@bulkhead/core/workflows/deployment-machine";
import { workflowOptions, type WorkflowOptionsInput } from "@bulkhead/core/workflows/options";
import { placeholderTaskResources } from "@bulkhead/core/workflows/tasks";
import { artifactReaderTrust } from "@bulkhead/core/iam/artifact-reader";
import { artifactsStandIn } from "../standins/artifacts.ts";
import { codeBuildStandIn, type CodeBuildStandIn } from "../standins/codebuild.ts";
import { buildRolesStandIn } from "../standins/iam.ts";
import { localLogGroups, type LocalLogGroups } from "../standins/logs.ts";
import { localObjectStore, type LocalObjectStore } from "../standins/object-store.ts";
import { stsStandIn, trustFileOf, type StsStandIn } from "../standins/sts.ts";
import { targetStandIn, type TargetStandIn } from "../standins/target.ts";
import { bindTaskStates, loadTask } from "./bindings.ts";
import { localExecutor, type LocalExecutor } from "./executor.ts";
import { validateDefinition } from "./validate.ts";

export type OfflineWorkflowOptions = {
  /** Options of the state machine definition; production defaults when absent. */
  definition?: WorkflowOptionsInput;
  /** Retry pauses offline, in ms (the definition keeps its real intervals). */
  retryDelayMs?: number;
  /** Caps every build's wall-clock time (the definition's limit is in minutes). */
  buildTimeLimitMs?: number;
  /** Parent of the per-build sandbox directories; default: the system temp dir. */
  sandboxRoot?: string;
  /** Replaces single stand-ins (tests: a cloud adapter under aws-sdk-client-mock, a failing grant). */
  ports?: Partial<DeploymentPorts>;
};

export type OfflineDeployments = {
  /** The definition the executor runs (the sweep waits out its TimeoutSeconds). */
  definition: StateMachineDefinition;
  executor: LocalExecutor;
  standIns: {
    codeBuild: CodeBuildStandIn;
    sts: StsStandIn;
    target: TargetStandIn;
    store: LocalObjectStore;
    logs: LocalLogGroups;
  };
  stop: () => Promise<void>;
};

const ACCOUNT = "000000000000";
export const OFFLINE_REGION = "us-east-1";
const REGION = OFFLINE_REGION;
/** The stand-in for the stage's artifact bucket: sources and artifacts. */
export const OFFLINE_ARTIFACT_BUCKET = "bulkhead-artifacts";

/** The offline values of what infra links as `Deployments`; the ExternalId is generated per data dir. */
export function offlineDeploymentsConfig(hostedTargetExternalId: string): DeploymentsConfig {
  return {
    region: REGION,
    accountId: ACCOUNT,
    stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:bulkhead-local-Deployment`,
    buildProject: "bulkhead-build",
    artifactBucket: OFFLINE_ARTIFACT_BUCKET,
    artifactReaderRoleArn: `arn:aws:iam::${ACCOUNT}:role/bulkhead-local-artifact-reader`,
    buildRolePath: "/bulkhead/build/",
    hostedTarget: { roleArn: `arn:aws:iam::${ACCOUNT}:role/bulkhead/deploy/hosted-deploy`, region: REGION, externalId: hostedTargetExternalId },
  };
}

/**
 * Runs the deployment workflows offline: the same definition infra deploys (validated once with
 * asl-validator), executed in process by aws-local-stepfunctions with its Task states bound to the
 * task handler modules, and stand-ins (named as such) for CodeBuild, IAM, STS, CloudWatch Logs, S3
 * (the artifact reads included) and the deploy target, all under the data dir except the build
 * sandboxes.
 */
export async function startOfflineDeployments(
  options: { root: string; dataDir: string; config: DeploymentsConfig; deployerRoleArn: string } & OfflineWorkflowOptions,
): Promise<OfflineDeployments> {
  const { config } = options;
  const resources = placeholderTaskResources();
  const definition = deploymentStateMachine(workflowOptions(options.definition), resources);
  validateDefinition("Deployment", definition);

  const store = localObjectStore(join(options.dataDir, "objects"));
  const logs = localLogGroups(join(options.dataDir, "logs"));
  const codeBuild = codeBuildStandIn({
    store,
    logs,
    sandboxRoot: options.sandboxRoot ?? join(tmpdir(), "bulkhead-sandboxes"),
    maxWallClockMs: options.buildTimeLimitMs,
  });
  // Customers' trust policies are recorded by the `npm run trust` stand-in step, in the data dir.
  const sts = stsStandIn({ callerArn: options.deployerRoleArn, trustFile: trustFileOf(options.dataDir) });
  // The hosted deploy role's trust policy (as infra declares it) requires the platform's ExternalId.
  sts.trust(config.hostedTarget.roleArn, config.hostedTarget.externalId);
  // The platform's artifact reader trusts the deployer as infra declares it (iam/artifact-reader.ts).
  sts.trustPolicy(config.artifactReaderRoleArn, artifactReaderTrust({ deployerRoleArn: options.deployerRoleArn }));
  const target = targetStandIn({ root: join(options.dataDir, "targets"), sts });
  const artifacts = artifactsStandIn({ store, sts, readerRoleArn: config.artifactReaderRoleArn, accountId: config.accountId });

  const localHandlers = await bindTaskStates(definition, { root: options.root, resources, startBuildSync: codeBuild.startBuildSync });
  const executionClosed = await loadTask(options.root, "deployments.execution-closed");
  const executor = localExecutor({
    stateMachineArn: config.stateMachineArn,
    definition,
    localHandlers,
    retryDelayMs: options.retryDelayMs,
    // The IAM stand-in has no propagation delay to wait out.
    waitOverridesMs: { [STATES.waitForBuildRole]: 0 },
    onClosed: executionClosed,
  });

  useDeploymentPorts({
    executions: executor,
    buildRoles: buildRolesStandIn({ root: join(options.dataDir, "iam"), accountId: config.accountId }),
    buildEnvironments: codeBuild.buildEnvironments,
    buildLogs: logs,
    roles: sts,
    artifacts,
    targets: target,
    ...options.ports,
  });

  return {
    definition,
    executor,
    standIns: { codeBuild, sts, target, store, logs },
    stop: async () => {
      await executor.stopAll();
      await Promise.all(codeBuild.running().map((id) => codeBuild.destroy(id)));
    },
  };
}
