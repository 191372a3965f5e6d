import { auditSettled, systemAudit } from "./support/samples.ts";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TABLE_SCHEMA } from "../packages/core/src/data/table-schema.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { createDeployment, getDeploymentRecord } from "../packages/core/src/deployments/records.ts";
import { transition } from "../packages/core/src/deployments/transitions.ts";
import { recordFailure } from "../packages/core/src/deployments/steps/endings.ts";
import { deployedWorkflowTimeoutSeconds, stuckReason, SWEEP_GRACE_SECONDS, sweepStuckDeployments } from "../packages/core/src/deployments/sweep.ts";
import { deploymentStateMachine } from "../packages/core/src/workflows/deployment-machine.ts";
import { PRODUCTION_WORKFLOW_OPTIONS } from "../packages/core/src/workflows/options.ts";
import { placeholderTaskResources } from "../packages/core/src/workflows/tasks.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { newApp, readDeployment } from "./support/deployments.ts";

/**
 * The stuck-deployment sweep against DynamoDB Local: what it fails (deployments that outlived
 * their workflow's TimeoutSeconds), what it leaves, how it records it, and that `npm start` runs it
 * (here every 200 ms, as SWEEP_INTERVAL_SECONDS would).
 */
let api: TestApi;
beforeAll(async () => (api = await startTestApi({ sweepIntervalMs: 200 })));
afterAll(() => api?.stop());

const host = () => api.orgHost("acme");
const admin = () => api.tokens.member("acme", "admin");
const TIMEOUT = deploymentStateMachine(PRODUCTION_WORKFLOW_OPTIONS, placeholderTaskResources()).TimeoutSeconds;
const seconds = (s: number) => s * 1000;

/** The org's audit entries of one action, read through the API. */
async function auditEntries(action: string) {
  await auditSettled(api, "acme");
  const reply = await api.call(host(), "GET", `/v1/audit?action=${encodeURIComponent(action)}&limit=100`, { token: admin() });
  expect(reply.status, reply.text).toBe(200);
  return reply.json.items as { actor: unknown; action: string; target: Record<string, string>; outcome: { result: string }; requestId: string }[];
}

const queued = (appId: string, at: Date) =>
  createDeployment(tenantTable("acme"), { appId, source: { ref: "v1" }, target: { id: "hosted", kind: "hosted" }, createdBy: "t" }, systemAudit("deployments.create"), at)
    .then(({ deployment }) => deployment.id);

describe("the stuck-deployment sweep", () => {
  it("waits out the TimeoutSeconds of the deployed definition", () => {
    expect(deployedWorkflowTimeoutSeconds()).toBe(TIMEOUT);
    expect(TIMEOUT).toBeGreaterThan(3600);
  });

  it("fails what outlived its workflow's limit, with a reason and an audit entry of its own; leaves the rest; releases what the fail path releases", async () => {
    const appId = await newApp(api, "acme");
    const table = tenantTable("acme");
    // The sweep's clock is ahead of the real one, so the background sweep of this runtime sees none of these as stuck.
    const now = new Date(Date.now() + seconds(TIMEOUT + SWEEP_GRACE_SECONDS + 600));
    const stuck = await queued(appId, new Date(now.getTime() - seconds(TIMEOUT + SWEEP_GRACE_SECONDS + 60)));
    await transition(table, appId, stuck, "beginBuild");
    const young = await queued(appId, new Date(now.getTime() - seconds(TIMEOUT + SWEEP_GRACE_SECONDS - 60)));
    const ended = await queued(appId, new Date(now.getTime() - seconds(TIMEOUT * 3)));
    await transition(table, appId, ended, "cancel");

    const summary = await sweepStuckDeployments({ now });
    expect(summary.errors).toBe(0);
    expect(summary.failed).toBeGreaterThanOrEqual(1);
    const failed = await readDeployment(api, "acme", appId, stuck);
    expect(failed).toMatchObject({ status: "FAILED", failureReason: stuckReason(TIMEOUT) });
    expect(failed.failureReason).toContain(`${TIMEOUT} s`);
    expect((await readDeployment(api, "acme", appId, young)).status).toBe("QUEUED");
    expect((await readDeployment(api, "acme", appId, ended)).status).toBe("CANCELLED");

    const entries = (await auditEntries("deployments.sweep-fail")).filter((e) => e.target.deploymentId === stuck);
    expect(entries).toEqual([expect.objectContaining({
      actor: { kind: "system", sub: "bulkhead:deployment-sweep" },
      target: { appId, deploymentId: stuck },
      outcome: { result: "ok" },
      requestId: stuck,
    })]);

    // Ended through the workflow's own fail path: a late RecordFailure finds it ended and changes nothing.
    expect(await recordFailure({ org: "acme", appId, deploymentId: stuck, failure: { Error: "States.Timeout" } })).toEqual({ recorded: false });
    expect((await getDeploymentRecord(table, appId, stuck)).failureReason).toBe(stuckReason(TIMEOUT));
    // A second run finds nothing more of this app; the index no longer holds the failed deployment.
    await sweepStuckDeployments({ now });
    expect((await auditEntries("deployments.sweep-fail")).filter((e) => e.target.deploymentId === stuck)).toHaveLength(1);
    const index = TABLE_SCHEMA.indexes.activeDeployments;
    const { Items = [] } = await api.db.send(new QueryCommand({
      TableName: api.offline.config.tableName,
      IndexName: index.name,
      KeyConditionExpression: "#p = :p",
      ExpressionAttributeNames: { "#p": index.partitionKey },
      ExpressionAttributeValues: { ":p": index.partitionValue },
    }));
    const indexed = Items.map((item) => item.SK);
    expect(indexed).toContain(`DEPLOY#${young}`);
    expect(indexed).not.toContain(`DEPLOY#${stuck}`);
    expect(indexed).not.toContain(`DEPLOY#${ended}`);

    // What the fail path releases, the sweep released: with the young one cancelled, the app can go.
    await transition(table, appId, young, "cancel");
    const deleted = await api.call(host(), "DELETE", `/v1/apps/${appId}`, { token: admin() });
    expect(deleted.status, deleted.text).toBe(204);
  });

  it("runs on npm start: a deployment left active by a runtime that stopped is failed within the interval", async () => {
    const appId = await newApp(api, "acme");
    const orphan = await queued(appId, new Date(Date.now() - seconds(TIMEOUT + SWEEP_GRACE_SECONDS + 60)));
    const deadline = Date.now() + 10_000;
    let deployment = await readDeployment(api, "acme", appId, orphan);
    while (deployment.status !== "FAILED" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      deployment = await readDeployment(api, "acme", appId, orphan);
    }
    expect(deployment).toMatchObject({ status: "FAILED", failureReason: stuckReason(api.offline.deployments.definition.TimeoutSeconds) });
    expect((await auditEntries("deployments.sweep-fail")).filter((e) => e.target.deploymentId === orphan)).toHaveLength(1);
  });
});
