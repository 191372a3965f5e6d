import { createHash } from "node:crypto";
import { getApp } from "../apps/index.ts";
import type { PendingAudit } from "../audit/chain.ts";
import type { Principal } from "../auth/principal.ts";
import type { TenantTable } from "../data/tables.ts";
import { conflict, InternalError, invalidRequest } from "../errors.ts";
import { logger } from "../log.ts";
import { appNames, appScope } from "../iam/names.ts";
import { findSource } from "../sources/service.ts";
import { buildLogExcerpt } from "./build-log.ts";
import { deploymentNotFound, TransitionRefused } from "./errors.ts";
import { port } from "./select-ports.ts";
import { createDeployment, getDeploymentRecord, noteExecution, toDeployment, type Deployment } from "./records.ts";
import { failDeployment, transition } from "./transitions.ts";
import { HOSTED_TARGET_ID, resolveTarget, targetRef } from "./targets.ts";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

export type StartRequest = {
  appId: string;
  body: { source: { ref: string }; target?: string };
  principal: Principal;
  idempotencyKey?: string;
};

/**
 * Creates the deployment (QUEUED) and starts its execution, named by the deployment id. A replay
 * with the same Idempotency-Key returns the same deployment; it starts the execution only if the
 * first request never got that far, and Step Functions' own name idempotency keeps that to one.
 */
export async function startDeployment(table: TenantTable, request: StartRequest, audit: PendingAudit): Promise<{ deployment: Deployment; replayed: boolean }> {
  const targetId = request.body.target ?? HOSTED_TARGET_ID;
  const { ref } = request.body.source;
  const [app, target, source] = await Promise.all([
    getApp(table, request.appId), resolveTarget(table, targetId), findSource(table, request.appId, ref),
  ]);
  if (!target) throw invalidRequest(`No target "${targetId}" is registered for this organization.`);
  // Only the app's own sources exist for it: a ref of another app or org is simply not found here.
  if (!source) throw invalidRequest(`No source "${ref}" was uploaded for this app (POST /v1/apps/${app.id}/sources first).`);

  const { deployment, replayed } = await createDeployment(table, {
    appId: app.id,
    source: { ref: request.body.source.ref },
    target: targetRef(target),
    build: app.build,
    createdBy: request.principal.sub,
    idempotency: request.idempotencyKey
      ? { keyHash: sha256(request.idempotencyKey), requestHash: sha256(JSON.stringify([request.body.source.ref, targetId])) }
      : undefined,
  }, audit);
  if (deployment.executionArn || deployment.status !== "QUEUED") return { deployment: toDeployment(deployment), replayed };

  const ids = { org: table.org, appId: app.id, deploymentId: deployment.id };
  try {
    const executions = await port("executions");
    const { executionArn } = await executions.start(deployment.id, ids);
    await noteExecution(table, app.id, deployment.id, executionArn);
  } catch (error) {
    logger.error("deployment workflow did not start", { error: error as Error, deployment: deployment.id });
    await failDeployment(table, ids, { failureReason: "the deployment's workflow could not be started" });
    throw new InternalError("the deployment's workflow could not be started", { cause: error });
  }
  return { deployment: toDeployment(deployment), replayed };
}

/**
 * The deployment; while it builds, with the build's log so far (the excerpt is recorded only when
 * the build ends), so a client can follow it. The log group is the app's own (appNames), named
 * from the host's org and the validated app id.
 */
export async function getDeployment(table: TenantTable, appId: string, deploymentId: string): Promise<Deployment> {
  const deployment = toDeployment(await getDeploymentRecord(table, appId, deploymentId));
  if (deployment.status !== "BUILDING") return deployment;
  const live = await buildLogExcerpt(appNames(appScope({ org: table.org, app: appId })).buildLogGroup, deploymentId);
  return live ? { ...deployment, buildLog: live } : deployment;
}

/**
 * Cancels first (a conditional write, so a late task cannot undo it), then stops the execution.
 * If the stop fails the deployment stays CANCELLED: every later task checks the status and
 * refuses to act, and the apply step checks it right before touching the target.
 */
export async function cancelDeployment(
  table: TenantTable, appId: string, deploymentId: string, principal: Principal, audit: PendingAudit,
): Promise<Deployment> {
  let record;
  try {
    record = await transition(table, appId, deploymentId, "cancel", {}, new Date(), { pending: audit, change: { appId, deploymentId } });
  } catch (error) {
    if (!(error instanceof TransitionRefused)) throw error;
    if (!error.current) throw deploymentNotFound();
    throw conflict(`The deployment already ended (${error.current}).`);
  }
  try {
    const executions = await port("executions");
    await executions.stop(deploymentId, { error: "Bulkhead.Cancelled", cause: `Cancelled by ${principal.sub}` });
  } catch (error) {
    logger.error("deployment cancelled but its execution did not stop", { error: error as Error, deployment: deploymentId });
  }
  return toDeployment(record);
}
