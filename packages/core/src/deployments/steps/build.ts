import { artifactPath } from "../../iam/names.ts";
import { asTaskError, taskError } from "../../workflows/errors.ts";
import { buildLogExcerpt } from "../build-log.ts";
import { prepareBuildSpec, type BuildSpec } from "../build-spec.ts";
import { deploymentsConfig } from "../config.ts";
import { deploymentAppNames, workflowBuildRole } from "../documents.ts";
import type { ExecutionInput } from "../ports.ts";
import { port } from "../select-ports.ts";
import { move, requireStatus } from "./guard.ts";

/**
 * The build's workflow tasks. The handlers in functions/src/tasks/ only validate input and call
 * these; the state machine decides the order, retries and failure path.
 */

export async function beginBuild(ids: ExecutionInput): Promise<object> {
  await move(ids, "beginBuild");
  return {};
}

export async function prepareBuild(ids: ExecutionInput, limits: { timeoutMinutes: number; queuedTimeoutMinutes: number }): Promise<BuildSpec> {
  const record = await requireStatus(ids, "BUILDING");
  const config = deploymentsConfig();
  const names = deploymentAppNames(ids);
  const documents = workflowBuildRole(config, names);
  const buildRoles = await port("buildRoles");
  const role = await buildRoles.ensure({
    names,
    path: config.buildRolePath,
    trustPolicy: documents.trust!,
    policy: documents.policy,
    permissionsBoundary: config.buildRolePermissionsBoundary,
  }).catch((error: unknown) => {
    throw asTaskError(error, "the app's build role could not be prepared");
  });
  return prepareBuildSpec({
    names,
    deploymentId: ids.deploymentId,
    sourceRef: record.source.ref,
    settings: record.build,
    role,
    limits,
    config,
  });
}

export async function destroyBuildEnvironment(ids: ExecutionInput, projectName: string): Promise<{ destroyed: number }> {
  const environments = await port("buildEnvironments");
  return environments.destroy({ projectName, deploymentId: ids.deploymentId }).catch((error: unknown) => {
    throw asTaskError(error, "the build environment could not be destroyed");
  });
}


/** Splits CodeBuild's artifact location (`arn:aws:s3:::bucket/key`) into bucket and key. */
function parseArtifactLocation(location: string): { bucket: string; key: string } | undefined {
  const match = /^arn:aws[a-z-]*:s3:::([^/]+)\/(.+)$/.exec(location);
  return match ? { bucket: match[1]!, key: match[2]! } : undefined;
}

/** The artifact must lie under this deployment's own prefix: anything else is refused, not recorded. */
export function checkArtifact(ids: ExecutionInput, location: string) {
  const parsed = parseArtifactLocation(location);
  const expected = `${artifactPath(deploymentAppNames(ids), ids.deploymentId)}/`;
  if (!parsed || parsed.bucket !== deploymentsConfig().artifactBucket || !parsed.key.startsWith(expected)) {
    throw taskError("internal", "the build reported an artifact outside this deployment's prefix");
  }
  return parsed;
}

export async function recordArtifact(
  ids: ExecutionInput,
  build: { artifactLocation: string; artifactSha256: string; logGroup: string; logStreamPrefix: string },
): Promise<object> {
  checkArtifact(ids, build.artifactLocation);
  const buildLog = await buildLogExcerpt(build.logGroup, build.logStreamPrefix);
  await move(ids, "finishBuild", { artifact: { location: build.artifactLocation, sha256: build.artifactSha256.toLowerCase() }, buildLog });
  return {};
}
