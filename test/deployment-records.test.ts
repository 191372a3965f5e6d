import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { TransitionRefused } from "../packages/core/src/deployments/errors.ts";
import { failureReason } from "../packages/core/src/deployments/failure.ts";
import { createDeployment, getDeploymentRecord } from "../packages/core/src/deployments/records.ts";
import { transition } from "../packages/core/src/deployments/transitions.ts";
import { ACTIVE_STATUSES, DEPLOYMENT_STATUSES, TRANSITIONS, type DeploymentStatus, type TransitionName } from "../packages/core/src/deployments/status.ts";
import { recordFailure, recordSuccess } from "../packages/core/src/deployments/steps/endings.ts";
import { toProblem } from "../packages/core/src/http/problem-response.ts";
import { redactSecrets } from "../packages/core/src/redact.ts";
import { TASK_ERRORS } from "../packages/core/src/workflows/errors.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { newApp } from "./support/deployments.ts";
import { setOrgLimits, systemAudit } from "./support/samples.ts";

/** Deployment records on DynamoDB Local: every status × every transition, and late tasks. */
let api: TestApi;
let APP: string;
beforeAll(async () => {
  api = await startTestApi();
  APP = await newApp(api, "acme");
  // Deployments made here are never run: they stay active, more of them than the default limit.
  await setOrgLimits(api, "acme", { concurrentDeployments: 1000 });
});
afterAll(() => api?.stop());
const PATHS: Record<DeploymentStatus, TransitionName[]> = {
  QUEUED: [],
  BUILDING: ["beginBuild"],
  DEPLOYING: ["beginBuild", "finishBuild"],
  SUCCEEDED: ["beginBuild", "finishBuild", "succeed"],
  FAILED: ["beginBuild", "fail"],
  CANCELLED: ["cancel"],
};

async function deploymentIn(status: DeploymentStatus) {
  const table = tenantTable("acme");
  const { deployment } = await createDeployment(table, { appId: APP, source: { ref: "v1" }, target: { id: "hosted", kind: "hosted" }, createdBy: "t" }, systemAudit("deployments.create"));
  for (const step of PATHS[status]) await transition(table, APP, deployment.id, step);
  return deployment.id;
}

describe("status transitions", () => {
  const cases = DEPLOYMENT_STATUSES.flatMap((status) => (Object.keys(TRANSITIONS) as TransitionName[]).map((name) => [status, name] as const));
  it.each(cases)("from %s, %s is applied only if the table allows it, and a refusal changes nothing", async (status, name) => {
    const table = tenantTable("acme");
    const id = await deploymentIn(status);
    const before = await getDeploymentRecord(table, APP, id);
    const allowed = (TRANSITIONS[name].from as readonly string[]).includes(status);
    if (allowed) {
      const after = await transition(table, APP, id, name, { failureReason: "r" });
      expect(after.status).toBe(TRANSITIONS[name].to);
      for (const stamp of TRANSITIONS[name].stamps) expect(after.timestamps[stamp]).toBeDefined();
    } else {
      const refusal = await transition(table, APP, id, name, { failureReason: "late" }).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(TransitionRefused);
      expect((refusal as TransitionRefused).current).toBe(status);
      expect(await getDeploymentRecord(table, APP, id)).toEqual(before);
    }
  });

  it("of concurrent terminal transitions exactly one wins", async () => {
    const table = tenantTable("acme");
    for (const from of ACTIVE_STATUSES) {
      const id = await deploymentIn(from);
      const results = await Promise.allSettled([
        transition(table, APP, id, "cancel"),
        transition(table, APP, id, "fail", { failureReason: "x" }),
        ...(from === "DEPLOYING" ? [transition(table, APP, id, "succeed")] : []),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    }
  });

  it("a late task cannot overwrite a cancelled deployment", async () => {
    const id = await deploymentIn("DEPLOYING");
    await transition(tenantTable("acme"), APP, id, "cancel");
    const ids = { org: "acme", appId: APP, deploymentId: id };
    await expect(recordSuccess(ids, { releaseId: "r", appliedAt: new Date().toISOString() })).rejects.toMatchObject({ name: TASK_ERRORS.deploymentClosed });
    expect(await recordFailure({ ...ids, failure: { Error: "States.Timeout" } })).toEqual({ recorded: false });
    const record = await getDeploymentRecord(tenantTable("acme"), APP, id);
    expect(record.status).toBe("CANCELLED");
    expect(record.release).toBeUndefined();
    expect(record.failureReason).toBeUndefined();
  });

  it("a transition of a deployment that does not exist is refused without creating it", async () => {
    const refusal = await transition(tenantTable("acme"), APP, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "cancel").catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(TransitionRefused);
    expect((refusal as TransitionRefused).current).toBeUndefined();
    expect(await api.partition(`ORG#acme#APP#${APP}`)).not.toContainEqual(expect.objectContaining({ SK: "DEPLOY#01ARZ3NDEKTSV4RRFFQ69G5FAV" }));
  });
});

describe("the app's active deployments", () => {
  const head = async (appId: string) => (await api.partition(`ORG#acme#APP#${appId}`)).find((item) => item.SK === "DEPLOY$");
  const indexed = async (appId: string, id: string) =>
    (await api.partition(`ORG#acme#APP#${appId}`)).find((item) => item.SK === `DEPLOY#${id}`)!;

  it("a deployment joins its app's active set and the active-deployments index when created, and leaves both with its terminal transition", async () => {
    const appId = await newApp(api, "acme");
    const table = tenantTable("acme");
    const create = () => createDeployment(table, { appId, source: { ref: "v1" }, target: { id: "hosted", kind: "hosted" }, createdBy: "t" }, systemAudit("deployments.create"));
    const [{ deployment: a }, { deployment: b }] = [await create(), await create()];
    expect([...(await head(appId))!.activeDeployments].sort()).toEqual([a.id, b.id].sort());
    expect(await indexed(appId, a.id)).toMatchObject({ activeDeploymentsIndex: "ACTIVE", activeSince: a.createdAt });
    await transition(table, appId, a.id, "beginBuild");
    expect([...(await head(appId))!.activeDeployments].sort()).toEqual([a.id, b.id].sort());
    await transition(table, appId, a.id, "fail", { failureReason: "r" });
    expect([...(await head(appId))!.activeDeployments]).toEqual([b.id]);
    expect((await indexed(appId, a.id)).activeSince).toBeUndefined();
    await transition(table, appId, b.id, "cancel");
    expect((await head(appId))!.activeDeployments).toBeUndefined();
  });

  it("concurrent deployments of one app all land, each once in its active set", async () => {
    const appId = await newApp(api, "acme");
    const table = tenantTable("acme");
    const created = await Promise.all(Array.from({ length: 8 }, () =>
      createDeployment(table, { appId, source: { ref: "v1" }, target: { id: "hosted", kind: "hosted" }, createdBy: "t" }, systemAudit("deployments.create"))));
    const ids = created.map(({ deployment }) => deployment.id);
    expect([...(await head(appId))!.activeDeployments].sort()).toEqual([...ids].sort());
    await Promise.all(ids.map((id) => transition(table, appId, id, "cancel")));
    expect((await head(appId))!.activeDeployments).toBeUndefined();
  });

  it("no deployment is created for an app that does not exist, and nothing is written for it", async () => {
    const missing = "z".repeat(26);
    const refusal = await createDeployment(tenantTable("acme"), { appId: missing, source: { ref: "v1" }, target: { id: "hosted", kind: "hosted" }, createdBy: "t" }, systemAudit("deployments.create"))
      .catch((e: unknown) => e);
    expect(toProblem(refusal)).toMatchObject({ status: 404 });
    expect(await api.partition(`ORG#acme#APP#${missing}`)).toEqual([]);
  });
});

describe("failure reasons", () => {
  it("take our task errors' messages, from a Lambda's Cause or the local interpreter's", () => {
    expect(failureReason({ Error: "Bulkhead.AccessDenied", Cause: JSON.stringify({ errorType: "Bulkhead.AccessDenied", errorMessage: "role refused", trace: ["at x"] }) }))
      .toBe("role refused");
    expect(failureReason({ Error: "Bulkhead.GrantDenied", Cause: "no grant" })).toBe("no grant");
  });

  it("read a failed build's phase and context", () => {
    const build = { Build: { BuildStatus: "FAILED", Phases: [{ PhaseType: "INSTALL", PhaseStatus: "SUCCEEDED" },
      { PhaseType: "BUILD", PhaseStatus: "FAILED", Contexts: [{ StatusCode: "COMMAND_EXECUTION_ERROR", Message: "exit status 2" }] }] } };
    expect(failureReason({ Error: "States.TaskFailed", Cause: JSON.stringify(build) })).toBe("the build failed in phase BUILD: COMMAND_EXECUTION_ERROR: exit status 2");
    expect(failureReason({ Error: "States.TaskFailed", Cause: JSON.stringify({ buildStatus: "TIMED_OUT", phases: [{ phaseType: "BUILD", phaseStatus: "TIMED_OUT" }] }) }))
      .toBe("the build exceeded its time limit and was stopped (in phase BUILD)");
  });

  it("never pass on internal detail of other errors, and mask secrets", () => {
    expect(failureReason({ Error: "States.Timeout", Cause: "internal" })).toBe("a workflow step exceeded its time limit");
    expect(failureReason({ Error: "Lambda.ServiceException", Cause: "stack trace with arn:aws:lambda:…" })).toBe("a workflow step failed (Lambda.ServiceException)");
    expect(failureReason({ Error: "Bulkhead.Internal", Cause: "token=abcdef123456 leaked" })).toBe("token=[redacted] leaked");
    expect(failureReason({ Error: "Bulkhead.Internal", Cause: "x".repeat(5000) }).length).toBeLessThanOrEqual(1000);
  });
});

describe("redaction", () => {
  it.each([
    ["AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY=[redacted]"],
    ["key id AKIAIOSFODNN7EXAMPLE here", "key id [redacted] here"],
    ["Authorization: Bearer abcdefghijklmnop", "Authorization: [redacted]"],
    ["db: postgres://user:hunter2@db:5432/x", "db: postgres://[redacted]@db:5432/x"],
    ["jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl end", "jwt [redacted] end"],
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "[redacted]"],
    ['"password": "p4ss"', '"password": "[redacted]"'],
    ["nothing secret here: build ok", "nothing secret here: build ok"],
  ])("%s", (input, output) => {
    expect(redactSecrets(input)).toBe(output);
  });

  it("masks known secret values wherever they appear", () => {
    expect(redactSecrets("value s3cr3t-value inline", ["s3cr3t-value"])).toBe("value [redacted] inline");
  });
});
