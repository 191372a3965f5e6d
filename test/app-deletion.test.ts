import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteApp } from "../packages/core/src/apps/index.ts";
import { pendingAudit } from "../packages/core/src/audit/chain.ts";
import { KeyStoreStandIn } from "../packages/core/src/key-stores/key-store-stand-in.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { createDeployment } from "../packages/core/src/deployments/records.ts";
import { toProblem } from "../packages/core/src/http/problem-response.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { overriding } from "./support/key-stores.ts";
import { executionClosed, newApp, putSource, startDeployment, waitForStatus } from "./support/deployments.ts";
import { systemAudit } from "./support/samples.ts";

/**
 * Deleting an app while one of its deployments has not ended is refused (409), race-free: a
 * deployment created concurrently with the delete either blocks the delete or is itself refused,
 * and no deployment of a deleted app survives. Against DynamoDB Local, through HTTP where it can.
 */
let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const host = () => api.orgHost("acme");
const admin = () => api.tokens.member("acme", "admin");
const deleteRequest = (appId: string) => api.call(host(), "DELETE", `/v1/apps/${appId}`, { token: admin() });

describe("deleting an app with a deployment that has not ended", () => {
  it("is refused with a 409 problem naming the deployment, changes nothing, and succeeds once the deployment is cancelled", async () => {
    const appId = await newApp(api, "acme", { command: "sleep 3" });
    await putSource(api, "acme", appId, "v1");
    const started = await startDeployment(api, "acme", appId);
    expect(started.status, started.text).toBe(202);
    const id = started.json.id as string;
    await waitForStatus(api, "acme", appId, id, ["BUILDING"]);

    const before = await api.partition(`ORG#acme#APP#${appId}`);
    const refused = await deleteRequest(appId);
    expect(refused.status, refused.text).toBe(409);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(refused.json).toMatchObject({ type: expect.stringMatching(/conflict$/), status: 409 });
    expect(refused.json.detail).toContain(id);
    expect((await api.call(host(), "GET", `/v1/apps/${appId}`, { token: admin() })).status).toBe(200);
    expect(await api.partition(`ORG#acme#APP#${appId}`)).toEqual(before);
    expect((await api.call(host(), "GET", `/v1/apps/${appId}/deployments/${id}`, { token: admin() })).json.status).toBe("BUILDING");

    const cancelled = await api.call(host(), "POST", `/v1/apps/${appId}/deployments/${id}/cancel`, { token: admin() });
    expect(cancelled.status, cancelled.text).toBe(200);
    await executionClosed(api, id);
    const deleted = await deleteRequest(appId);
    expect(deleted.status, deleted.text).toBe(204);
    expect(await api.partition(`ORG#acme#APP#${appId}`)).toEqual([]);
  });

  it("refuses a new deployment of an app being deleted: 404, nothing written", async () => {
    const appId = await newApp(api, "acme");
    const store = new KeyStoreStandIn(api.offline.keyStoreDirectory);
    // A delete interrupted after marking the app (its KEK already destroyed).
    const crashing = overriding(store, {
      destroy: async (ref) => {
        await store.destroy(ref);
        throw new Error("crash after shred");
      },
    });
    await expect(deleteApp(tenantTable("acme"), crashing, appId, pendingAudit({ actor: { kind: "system", sub: "test" }, action: "apps.delete", requestId: "t" })))
      .rejects.toThrow("crash after shred");
    const before = await api.partition(`ORG#acme#APP#${appId}`);
    const refusal = await createDeployment(tenantTable("acme"), { appId, source: { ref: "v1" }, target: { id: "hosted", kind: "hosted" }, createdBy: "t" }, systemAudit("deployments.create"))
      .catch((e: unknown) => e);
    expect(toProblem(refusal)).toMatchObject({ status: 404 });
    expect(await api.partition(`ORG#acme#APP#${appId}`)).toEqual(before);
  });

  it("under a race with a deployment being created, either the delete is refused or the deployment is: never both through, never a leftover", async () => {
    const rounds = 12;
    const outcomes = { deleted: 0, refused: 0 };
    for (let round = 0; round < rounds; round++) {
      const appId = await newApp(api, "acme");
      const audit = pendingAudit({ actor: { kind: "system", sub: "test" }, action: "apps.delete", requestId: `race-${round}` });
      // The delete reads its audit chain's head first: later and later creates meet it at every stage.
      const [created, deleted] = await Promise.allSettled([
        sleep(round * 3).then(() => createDeployment(tenantTable("acme"), { appId, source: { ref: "v1" }, target: { id: "hosted", kind: "hosted" }, createdBy: "t" }, systemAudit("deployments.create"))),
        deleteApp(tenantTable("acme"), new KeyStoreStandIn(api.offline.keyStoreDirectory), appId, audit),
      ]);
      const left = await api.partition(`ORG#acme#APP#${appId}`);
      if (deleted.status === "fulfilled") {
        outcomes.deleted++;
        expect(created.status, `round ${round}`).toBe("rejected");
        expect(toProblem((created as PromiseRejectedResult).reason)).toMatchObject({ status: 404 });
        expect(left, `round ${round}: nothing of the app is left`).toEqual([]);
      } else {
        outcomes.refused++;
        expect(toProblem((deleted as PromiseRejectedResult).reason)).toMatchObject({ status: 409 });
        expect(created.status, `round ${round}`).toBe("fulfilled");
        const id = (created as PromiseFulfilledResult<Awaited<ReturnType<typeof createDeployment>>>).value.deployment.id;
        expect(left.find((item) => item.SK === `DEPLOY#${id}`)).toMatchObject({ status: "QUEUED" });
        expect((await api.call(host(), "GET", `/v1/apps/${appId}`, { token: admin() })).status).toBe(200);
      }
    }
    expect(outcomes.deleted + outcomes.refused).toBe(rounds);
  });
});
