import { createHash } from "node:crypto";
import { auditedStep } from "../../audit/chain.ts";
import { tenantTable } from "../../data/tables.ts";
import type { AppNames } from "../../iam/names.ts";
import { logger } from "../../log.ts";
import { asTaskError, taskError } from "../../workflows/errors.ts";
import { deploymentsConfig } from "../config.ts";
import { artifactReadSession, deploymentAppNames, releaseSession } from "../documents.ts";
import type { ExecutionInput, GrantCheck, TemporaryCredentials } from "../ports.ts";
import { port } from "../select-ports.ts";
import type { DeploymentRecord } from "../records.ts";
import { resolveTarget, targetRef } from "../targets.ts";
import { checkArtifact } from "./build.ts";
import { requireStatus } from "./guard.ts";

/** The deploy's workflow tasks: the target and grant checks, and the release into the target. */

/** Assumed-role sessions last the minimum STS allows: the apply step must finish within it. */
export const DEPLOY_SESSION_SECONDS = 900;

/** Checks the vendor's grant for the target; resolves with the grant found (none for hosted targets). */
async function checkGrant(ids: ExecutionInput, record: DeploymentRecord, moment: GrantCheck["moment"], grantId?: string) {
  const grants = await port("grants");
  return grants.check({ ...ids, target: record.target, phase: "deploy", moment, grantId });
}

/** The platform's deploy workflow, as it appears in an org's audit chain. */
export const DEPLOY_WORKFLOW_ACTOR = { kind: "system", sub: "bulkhead:deployment-workflow" } as const;

async function liveTarget(ids: ExecutionInput, record: DeploymentRecord) {
  const target = await resolveTarget(tenantTable(ids.org), record.target.id);
  if (!target || target.kind !== record.target.kind) throw taskError("targetUnavailable", `the target ${record.target.id} is no longer registered`);
  return target;
}

export async function checkTarget(ids: ExecutionInput): Promise<{ id: string; kind: string }> {
  const record = await requireStatus(ids, "DEPLOYING");
  const target = await liveTarget(ids, record);
  await checkGrant(ids, record, "check-target");
  return targetRef(target);
}

/**
 * Lambda's limit for code uploaded in the request (UpdateFunctionCode `ZipFile`): 50 MiB zipped
 * (the base64 request body may be 69,905,067 bytes). The apply task holds the ZIP and its encoded
 * request at once: a 50 MiB upload through the SDK peaked at 100 MiB above the ZIP itself (about
 * 3 times the ZIP in all), well inside the task's 1024 MB.
 */
export const RELEASE_ZIP_MAX_BYTES = 50 * 1024 * 1024;

const mebibytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Reads the deployment's artifact in the platform's account with the artifact reader's session
 * (tagged with this deployment: its role reaches this one object), so no target needs a grant on
 * the platform's bucket. The bytes must be the ones the build reported (SHA-256). Too large an
 * artifact fails the deployment before anything is asked of the target.
 */
async function readArtifact(ids: ExecutionInput, names: AppNames, location: { bucket: string; key: string }, sha256: string): Promise<Uint8Array> {
  const config = deploymentsConfig();
  const session = artifactReadSession({ config, names, deploymentId: ids.deploymentId, artifact: location });
  const roles = await port("roles");
  let credentials: TemporaryCredentials | undefined = await roles.assumeRole({
    roleArn: config.artifactReaderRoleArn,
    sessionName: ids.deploymentId,
    durationSeconds: DEPLOY_SESSION_SECONDS,
    tags: session.tags,
    policy: session.policy,
  }).catch((error: unknown) => {
    throw asTaskError(error, "the platform's artifact reader role could not be assumed");
  });
  try {
    const artifacts = await port("artifacts");
    const { size, bytes } = await artifacts.read({
      ...location, accountId: config.accountId, region: config.region, credentials, maxBytes: RELEASE_ZIP_MAX_BYTES,
    }).catch((error: unknown) => {
      throw asTaskError(error, "the artifact could not be read");
    });
    if (!bytes) {
      throw taskError("artifactTooLarge", `the artifact is ${mebibytes(size)}; a release is uploaded to its target directly, which takes at most ${mebibytes(RELEASE_ZIP_MAX_BYTES)} zipped`);
    }
    if (createHash("sha256").update(bytes).digest("hex") !== sha256) {
      throw taskError("releaseMismatch", "the stored artifact does not match the built artifact's SHA-256");
    }
    return bytes;
  } finally {
    credentials = undefined;
  }
}

/**
 * Reads the artifact, assumes the target's deploy role and applies the release, in one task so
 * the temporary credentials live only in this function's memory: they are not returned, stored or
 * logged. The grant is checked before AssumeRole and again right before applying, as is the
 * deployment's own status, so a revocation or a cancel in between stops the release.
 */
export async function applyRelease(
  ids: ExecutionInput,
  artifact: { artifactLocation: string; artifactSha256: string },
): Promise<{ releaseId: string; appliedAt: string }> {
  const record = await requireStatus(ids, "DEPLOYING");
  const target = await liveTarget(ids, record);
  const location = checkArtifact(ids, artifact.artifactLocation);
  const sha256 = artifact.artifactSha256.toLowerCase();
  const names = deploymentAppNames(ids);
  let session: ReturnType<typeof releaseSession>;
  try {
    session = releaseSession({ target, names, deploymentId: ids.deploymentId });
  } catch (error) {
    logger.error("no release session policy", { error: error as Error });
    throw taskError("internal", "the deploy session policy could not be built");
  }

  const { grantId } = await checkGrant(ids, record, "before-assume-role");
  const code = await readArtifact(ids, names, location, sha256);
  // The vendor's actions in the customer's (or the platform's) account go into the org's chain:
  // intent before acting, outcome after. Ids only: never credentials, never the ExternalId.
  const table = tenantTable(ids.org);
  const step = (action: string) => ({
    actor: DEPLOY_WORKFLOW_ACTOR,
    action,
    target: { appId: ids.appId, deploymentId: ids.deploymentId, targetId: target.id, ...(grantId && { grantId }) },
    requestId: ids.deploymentId,
  });
  const roles = await port("roles");
  let credentials: TemporaryCredentials | undefined = await auditedStep(table, step("deployments.assume-role"), () => roles.assumeRole({
    roleArn: target.roleArn,
    externalId: target.externalId,
    sessionName: ids.deploymentId,
    durationSeconds: DEPLOY_SESSION_SECONDS,
    tags: session.tags,
    policy: session.policy,
  }).catch((error: unknown) => {
    throw asTaskError(error, `the deploy role of target ${target.id} could not be assumed`);
  }));
  try {
    // The same grant that allowed AssumeRole must still be active now.
    await checkGrant(ids, record, "before-apply", grantId);
    await requireStatus(ids, "DEPLOYING");
    const targets = await port("targets");
    const assumed = credentials;
    const { releaseId } = await auditedStep(table, step("deployments.apply"), () => targets.apply({
      target,
      names,
      deploymentId: ids.deploymentId,
      artifact: { location: artifact.artifactLocation, sha256 },
      code,
      credentials: assumed,
    }).catch((error: unknown) => {
      throw asTaskError(error, `target ${target.id} did not accept the release`);
    }));
    return { releaseId, appliedAt: new Date().toISOString() };
  } finally {
    credentials = undefined;
  }
}
