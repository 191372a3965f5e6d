import { execFile } from "node:child_process";
import { existsSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deploymentsConfig } from "../packages/core/src/deployments/config.ts";
import { deployGrants } from "../packages/core/src/deployments/grants.ts";
import type { ArtifactReaderPort } from "../packages/core/src/deployments/ports.ts";
import { port, useDeploymentPorts } from "../packages/core/src/deployments/select-ports.ts";
import { RELEASE_ZIP_MAX_BYTES } from "../packages/core/src/deployments/steps/deploy.ts";
import { REPO_ROOT } from "../packages/local/src/runtime.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { executionClosed, newApp, putSource, startDeployment, waitForStatus } from "./support/deployments.ts";
import { auditSettled, byoiTarget } from "./support/samples.ts";

/**
 * Deployments to a customer's own account (BYOI), end to end offline through HTTP: the target is
 * registered through the API, the customer's trust is recorded with the `npm run trust` stand-in
 * step, the Deploy grant is requested by a platform operator and approved or revoked by the
 * org's admin, and the production state machine runs with the STS and target stand-ins.
 */
let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());
/** The runtime's own artifact stand-in, put back after a test wraps it. */
let artifacts: ArtifactReaderPort;
beforeAll(async () => (artifacts = await port("artifacts")));
afterEach(() => useDeploymentPorts({ grants: deployGrants(), artifacts }));

const host = () => api.orgHost("acme");
const standIns = () => api.offline.deployments.standIns;
type CreatedTarget = { id: string; deployRoleArn: string; externalId: string; trustPolicy: { Version: "2012-10-17"; Statement: Record<string, unknown>[] } };

let accounts = 0;
/** A BYOI target in an account of its own, so each test's role (and its trust) is its own. */
async function registerTarget(): Promise<CreatedTarget> {
  const account = String(210_000_000_000 + ++accounts * 7919);
  const reply = await api.call(host(), "POST", "/v1/targets", { token: api.tokens.member("acme", "admin"), body: byoiTarget("acme", `customer ${accounts}`, account) });
  expect(reply.status, reply.text).toBe(201);
  return reply.json;
}

/** The customer pastes the trust policy: recorded with the STS stand-in as `npm run trust` does. */
const trustAsCustomer = (target: CreatedTarget) => standIns().sts.trustPolicy(target.deployRoleArn, target.trustPolicy);

async function grant(targetId: string, durationSeconds = 3600): Promise<string> {
  const requested = await api.call(host(), "POST", "/v1/grants", {
    token: api.tokens.platform("operator"), body: { phase: "Deploy", targetId, reason: "release v1", durationSeconds },
  });
  expect(requested.status, requested.text).toBe(201);
  const approved = await api.call(host(), "POST", `/v1/grants/${requested.json.id}/approve`, { token: api.tokens.member("acme", "admin") });
  expect(approved.status, approved.text).toBe(200);
  expect(approved.json.state).toBe("ACTIVE");
  return requested.json.id;
}

async function revoke(grantId: string) {
  const reply = await api.call(host(), "POST", `/v1/grants/${grantId}/revoke`, { token: api.tokens.member("acme", "admin") });
  expect(reply.status, reply.text).toBe(200);
}

async function deploy(targetId: string, build?: { command: string }) {
  const appId = await newApp(api, "acme", build);
  await putSource(api, "acme", appId, "v1");
  const started = await startDeployment(api, "acme", appId, { source: { ref: "v1" }, target: targetId });
  expect(started.status, started.text).toBe(202);
  expect(started.json.target).toEqual({ id: targetId, kind: "byoi" });
  return { appId, id: started.json.id as string };
}

const finished = async (appId: string, id: string) => {
  const done = await waitForStatus(api, "acme", appId, id, ["SUCCEEDED", "FAILED", "CANCELLED"]);
  await executionClosed(api, id);
  return done;
};
const releaseDir = (targetId: string, appId: string) => standIns().target.releaseDir(targetId, "acme", appId);
/** AssumeRole calls on deploy roles; the platform's own artifact reader is counted apart. */
const assumeRoleCalls = (id: string) => standIns().sts.calls().filter((call) => call.sessionName === id && call.roleArn !== deploymentsConfig().artifactReaderRoleArn);
const artifactReads = (id: string) => standIns().sts.calls().filter((call) => call.sessionName === id && call.roleArn === deploymentsConfig().artifactReaderRoleArn);
const chainOf = async (deploymentId: string) => {
  await auditSettled(api, "acme");
  return (await api.partition("ORG#acme#AUDIT")).filter((entry) => entry.requestId === deploymentId).sort((a, b) => a.seq - b.seq);
};

describe("deploying to a BYOI target", () => {
  it("without a grant: FAILED `no grant`, before any AssumeRole, nothing written", async () => {
    const target = await registerTarget();
    trustAsCustomer(target);
    const { appId, id } = await deploy(target.id);
    const done = await finished(appId, id);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("no grant");
    expect(done.artifact).toBeDefined();
    expect(assumeRoleCalls(id)).toEqual([]);
    expect(existsSync(releaseDir(target.id, appId))).toBe(false);
    expect(await chainOf(id)).toEqual([]);
  });

  it("with the customer's trust (npm run trust) and an approved Deploy grant: SUCCEEDED, release in the target's folder, audited without secrets", async () => {
    const target = await registerTarget();
    const responseFile = join(api.offline.dataDir, `target-${target.id}.json`);
    writeFileSync(responseFile, JSON.stringify(target));
    const { stdout } = await promisify(execFile)("npx", ["tsx", "packages/local/src/cli/trust.ts", "--target-response", responseFile], {
      cwd: REPO_ROOT, env: { ...process.env, BULKHEAD_DATA_DIR: api.offline.dataDir },
    });
    expect(stdout).toContain("stand-in step");
    expect(stdout).not.toContain(target.externalId);
    const grantId = await grant(target.id);

    const { appId, id } = await deploy(target.id);
    const done = await finished(appId, id);
    expect(done.status, done.failureReason).toBe("SUCCEEDED");
    expect(assumeRoleCalls(id)).toEqual([{ roleArn: target.deployRoleArn, sessionName: id, allowed: true }]);
    expect(artifactReads(id)).toEqual([{ roleArn: deploymentsConfig().artifactReaderRoleArn, sessionName: id, allowed: true }]);
    const release = JSON.parse(readFileSync(join(releaseDir(target.id, appId), "releases", `${id}.json`), "utf8"));
    expect(release).toMatchObject({
      deploymentId: id,
      artifact: { sha256: done.artifact.sha256 },
      function: `arn:aws:lambda:eu-west-1:${target.deployRoleArn.split(":")[4]}:function:bh-acme-${appId}`,
      session: { roleArn: target.deployRoleArn, sessionName: id, tags: { org: "acme", app: appId, deployment: id } },
    });
    expect(existsSync(join(releaseDir(target.id, appId), "live.json"))).toBe(true);

    const entries = await chainOf(id);
    const actor = { kind: "system", sub: "bulkhead:deployment-workflow" };
    const on = { appId, deploymentId: id, targetId: target.id, grantId };
    expect(entries.map((e) => [e.action, e.outcome.result])).toEqual([
      ["deployments.assume-role", "started"], ["deployments.assume-role", "ok"],
      ["deployments.apply", "started"], ["deployments.apply", "ok"],
    ]);
    for (const entry of entries) expect(entry).toMatchObject({ actor, target: on, requestId: id });
    expect(entries[1]!.outcome.intentId).toBe(entries[0]!.id);
    expect(entries[3]!.outcome.intentId).toBe(entries[2]!.id);

    const verified = await api.call(host(), "GET", "/v1/audit/verify", { token: api.tokens.member("acme", "admin") });
    expect(verified.status, verified.text).toBe(200);
    const exported = await api.call(host(), "GET", "/v1/audit/export", { token: api.tokens.member("acme", "admin") });
    expect(exported.status).toBe(200);
    expect(exported.text).toContain("deployments.assume-role");
    const chainText = exported.text + JSON.stringify(await api.partition("ORG#acme#AUDIT"));
    const history = JSON.stringify((await executionClosed(api, id)).history);
    expect(history).toContain(id);
    const issued = standIns().sts.issued();
    // At least this deployment's two sessions: the artifact reader's and the customer role's.
    expect(issued.length).toBeGreaterThanOrEqual(2);
    for (const secret of [target.externalId, ...issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken])]) {
      expect(chainText.includes(secret), "the audit chain holds a secret").toBe(false);
      expect(history.includes(secret), "the execution's history holds a secret").toBe(false);
    }
  });

  it("an artifact over Lambda's 50 MiB direct upload: FAILED with its size and the limit, the customer's role never assumed", async () => {
    const target = await registerTarget();
    trustAsCustomer(target);
    await grant(target.id);
    // The stored artifact grows past the limit before it is read (a sparse file: a real 50 MiB
    // build costs more CPU than this shared machine should spend on one test).
    useDeploymentPorts({
      artifacts: {
        read: async (request) => {
          truncateSync(standIns().store.path(request.bucket, request.key), RELEASE_ZIP_MAX_BYTES + 1);
          return artifacts.read(request);
        },
      },
    });
    const { appId, id } = await deploy(target.id);
    const done = await finished(appId, id);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("the artifact is 50.0 MiB; a release is uploaded to its target directly, which takes at most 50.0 MiB zipped");
    expect(artifactReads(id)).toHaveLength(1);
    expect(assumeRoleCalls(id)).toEqual([]);
    expect(existsSync(releaseDir(target.id, appId))).toBe(false);
  });

  it("grant revoked while the build runs: FAILED `grant revoked`, no AssumeRole, nothing written", async () => {
    const target = await registerTarget();
    trustAsCustomer(target);
    const grantId = await grant(target.id);
    const { appId, id } = await deploy(target.id, { command: "sleep 2" });
    await waitForStatus(api, "acme", appId, id, ["BUILDING"]);
    await revoke(grantId);
    const done = await finished(appId, id);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("grant revoked");
    expect(done.timestamps.buildFinishedAt).toBeDefined();
    expect(assumeRoleCalls(id)).toEqual([]);
    expect(existsSync(releaseDir(target.id, appId))).toBe(false);
  });

  it("grant revoked after AssumeRole, even with a new grant approved since: the pinned grant fails the release with `grant revoked`", async () => {
    const target = await registerTarget();
    trustAsCustomer(target);
    const first = await grant(target.id);
    const real = deployGrants();
    let second: string | undefined;
    useDeploymentPorts({
      grants: {
        async check(request) {
          if (request.moment === "before-apply" && !second) {
            await revoke(first);
            second = await grant(target.id);
          }
          return real.check(request);
        },
      },
    });
    const { appId, id } = await deploy(target.id);
    const done = await finished(appId, id);
    expect(second).toBeDefined();
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("grant revoked");
    expect(assumeRoleCalls(id)).toEqual([{ roleArn: target.deployRoleArn, sessionName: id, allowed: true }]);
    expect(existsSync(releaseDir(target.id, appId))).toBe(false);
    // The chain shows the role was assumed under the first grant, and no apply.
    expect((await chainOf(id)).map((e) => [e.action, e.outcome.result, e.target.grantId])).toEqual([
      ["deployments.assume-role", "started", first], ["deployments.assume-role", "ok", first],
    ]);
  });

  it("grant expired by the time the deployment reaches its target: FAILED `grant expired`, no AssumeRole", async () => {
    const target = await registerTarget();
    trustAsCustomer(target);
    await grant(target.id, 300);
    // The workflow's clock is moved past the grant's 300 s window.
    useDeploymentPorts({ grants: deployGrants(() => new Date(Date.now() + 301_000)) });
    const { appId, id } = await deploy(target.id);
    const done = await finished(appId, id);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("grant expired");
    expect(assumeRoleCalls(id)).toEqual([]);
    expect(existsSync(releaseDir(target.id, appId))).toBe(false);
  });

  it("a pending grant, and a denied one, stop the deployment with their reasons", async () => {
    const target = await registerTarget();
    trustAsCustomer(target);
    const requested = await api.call(host(), "POST", "/v1/grants", {
      token: api.tokens.platform("operator"), body: { phase: "Deploy", targetId: target.id, reason: "release", durationSeconds: 3600 },
    });
    expect(requested.status).toBe(201);
    const pending = await deploy(target.id);
    expect((await finished(pending.appId, pending.id)).failureReason).toBe("grant pending");
    const denied = await api.call(host(), "POST", `/v1/grants/${requested.json.id}/deny`, { token: api.tokens.member("acme", "admin") });
    expect(denied.status).toBe(200);
    const refused = await deploy(target.id);
    expect((await finished(refused.appId, refused.id)).failureReason).toBe("grant denied");
    expect(standIns().sts.calls().filter((c) => c.roleArn === target.deployRoleArn)).toEqual([]);
  });

  it("no trust recorded, or another target's trust pasted on the role: FAILED at AssumeRole, no release, the refusal audited", async () => {
    const target = await registerTarget();
    await grant(target.id);
    const untrusted = await deploy(target.id);
    const first = await finished(untrusted.appId, untrusted.id);
    expect(first.status).toBe("FAILED");
    expect(first.failureReason).toBe(`the deploy role of target ${target.id} could not be assumed: access denied`);
    expect(assumeRoleCalls(untrusted.id)).toEqual([{ roleArn: target.deployRoleArn, sessionName: untrusted.id, allowed: false }]);
    expect((await chainOf(untrusted.id)).map((e) => [e.action, e.outcome.result, e.outcome.problem])).toEqual([
      ["deployments.assume-role", "started", undefined], ["deployments.assume-role", "failed", "Bulkhead.AccessDenied"],
    ]);

    // The customer pastes the trust policy of another target (its ExternalId) onto this role.
    const other = await registerTarget();
    standIns().sts.trustPolicy(target.deployRoleArn, other.trustPolicy);
    const wrong = await deploy(target.id);
    const second = await finished(wrong.appId, wrong.id);
    expect(second.status).toBe("FAILED");
    expect(second.failureReason).toBe(`the deploy role of target ${target.id} could not be assumed: access denied`);
    for (const { appId } of [untrusted, wrong]) expect(existsSync(releaseDir(target.id, appId))).toBe(false);
  });

  it("a target deleted while the build runs: FAILED, no longer registered", async () => {
    const target = await registerTarget();
    trustAsCustomer(target);
    const { appId, id } = await deploy(target.id, { command: "sleep 1" });
    await waitForStatus(api, "acme", appId, id, ["BUILDING"]);
    const deleted = await api.call(host(), "DELETE", `/v1/targets/${target.id}`, { token: api.tokens.member("acme", "admin") });
    expect(deleted.status, deleted.text).toBe(204);
    const done = await finished(appId, id);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe(`the target ${target.id} is no longer registered`);
    expect(assumeRoleCalls(id)).toEqual([]);
  });
});
