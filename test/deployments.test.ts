import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentsConfig } from "../packages/core/src/deployments/config.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { executionClosed, newApp, putSource, readDeployment, startDeployment, waitForStatus } from "./support/deployments.ts";

/**
 * The deployment workflow end to end, offline, through HTTP: the route starts an execution of the
 * production state machine in aws-local-stepfunctions, whose Task states run the task handlers;
 * CodeBuild, STS and the target are the offline stand-ins.
 */
let api: TestApi;
const PARENT_SECRET = "parent-process-secret-4f1c9a";
beforeAll(async () => {
  process.env.BULKHEAD_TEST_PARENT_SECRET = PARENT_SECRET;
  api = await startTestApi({ workflows: { buildTimeLimitMs: 1500 } });
});
afterAll(() => api?.stop());

const host = () => api.orgHost("acme");
const sandboxes = () => readdirSync(api.sandboxRoot);
const artifactOf = (deployment: { artifact: { location: string } }) => {
  const [, bucket, key] = /^arn:aws:s3:::([^/]+)\/(.+)$/.exec(deployment.artifact.location)!;
  return readFileSync(api.offline.deployments.standIns.store.path(bucket!, key!));
};
/** A killed process may linger as a zombie until its new parent reaps it: that is not running. */
const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return !/^\d+ \(.*\) Z/.test(stat);
};
const releaseFile = (appId: string, id: string) =>
  join(api.offline.deployments.standIns.target.releaseDir("hosted", "acme", appId), "releases", `${id}.json`);

describe("a deployment offline", () => {
  it("builds the source, deploys it to the hosted target and reaches SUCCEEDED", async () => {
    const appId = await newApp(api, "acme");
    await putSource(api, "acme", appId, "v1", { "index.html": "<h1>v1</h1>\n", "lib/app.js": "export {};\n" });
    const started = await startDeployment(api, "acme", appId);
    expect(started.status, started.text).toBe(202);
    expect(started.json).toMatchObject({ status: "QUEUED", appId, source: { ref: "v1" }, target: { id: "hosted", kind: "hosted" }, createdBy: "developer-of-acme" });
    expect(started.headers.location).toBe(`/v1/apps/${appId}/deployments/${started.json.id}`);

    const done = await waitForStatus(api, "acme", appId, started.json.id, ["SUCCEEDED", "FAILED"]);
    expect(done.status, done.failureReason).toBe("SUCCEEDED");
    const { timestamps } = done;
    expect([timestamps.queuedAt, timestamps.buildStartedAt, timestamps.buildFinishedAt, timestamps.deployStartedAt, timestamps.finishedAt])
      .toEqual([...[timestamps.queuedAt, timestamps.buildStartedAt, timestamps.buildFinishedAt, timestamps.deployStartedAt, timestamps.finishedAt]].sort());
    expect(done.artifact.location).toBe(`arn:aws:s3:::bulkhead-artifacts/acme/${appId}/${done.id}/artifact.zip`);

    const zip = artifactOf(done);
    expect(createHash("sha256").update(zip).digest("hex")).toBe(done.artifact.sha256);
    expect(Object.keys(unzipSync(zip)).sort()).toEqual(["index.html", "lib/app.js"]);
    expect(done.buildLog.excerpt).toContain("No build command is set");

    const release = JSON.parse(readFileSync(releaseFile(appId, done.id), "utf8"));
    expect(release).toMatchObject({
      deploymentId: done.id,
      artifact: { sha256: done.artifact.sha256 },
      session: { sessionName: done.id, tags: { org: "acme", app: appId, deployment: done.id } },
    });
    expect(done.release.id).toBe(`bh-acme-${appId}:${done.id}`);

    const execution = await executionClosed(api, done.id);
    expect(execution.status).toBe("SUCCEEDED");
    expect(execution.input).toEqual({ org: "acme", appId, deploymentId: done.id });
    const entered = execution.history.filter((e) => e.type === "StateEntered").map((e) => (e.state as { name: string }).name);
    expect(entered).toEqual([
      "BeginBuild", "PrepareBuild", "NewBuildRole", "WaitForBuildRole", "RunBuild", "DestroyBuildEnvironment", "BuildOutcome",
      "RecordArtifact", "CheckTarget", "ApplyRelease", "RecordSuccess", "DeploymentSucceeded",
    ]);
    expect(sandboxes()).toEqual([]);
  });

  it("runs the app's build command in a scrubbed environment and packages what it produced", async () => {
    const appId = await newApp(api, "acme", { command: "mkdir -p out && env | sort > out/env.txt && pwd > out/pwd.txt && ln -s /etc/hostname out/leak && echo built" });
    await putSource(api, "acme", appId, "v2");
    const started = await startDeployment(api, "acme", appId, { source: { ref: "v2" } });
    const done = await waitForStatus(api, "acme", appId, started.json.id, ["SUCCEEDED", "FAILED"]);
    expect(done.status, done.failureReason).toBe("SUCCEEDED");

    const files = unzipSync(artifactOf(done));
    expect(Object.keys(files).sort()).toEqual(["index.html", "out/env.txt", "out/pwd.txt"]);
    const env = Buffer.from(files["out/env.txt"]!).toString("utf8");
    expect(env).toContain(`BULKHEAD_DEPLOYMENT=${done.id}`);
    expect(env).toContain("BULKHEAD_SOURCE_REF=v2");
    expect(env).toContain(`BULKHEAD_IMAGE_REPOSITORY=bulkhead/acme/${appId}`);
    expect(env).not.toContain(PARENT_SECRET);
    expect(env).not.toMatch(/^AWS_/m);
    expect(env).not.toMatch(/^SST_/m);
    expect(env).not.toContain(api.offline.config.cursorKey);
    const pwd = Buffer.from(files["out/pwd.txt"]!).toString("utf8").trim();
    expect(pwd.startsWith(api.sandboxRoot)).toBe(true);
    expect(existsSync(pwd)).toBe(false);
    expect(done.buildLog.excerpt).toContain("built");
  });

  it("a failing build command ends FAILED with the reason and leaves no sandbox behind", async () => {
    const appId = await newApp(api, "acme", { command: "echo compiling; echo 'password=hunter2-very-secret'; exit 3" });
    await putSource(api, "acme", appId, "v1");
    const started = await startDeployment(api, "acme", appId);
    const done = await waitForStatus(api, "acme", appId, started.json.id, ["SUCCEEDED", "FAILED"]);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toMatch(/^the build failed in phase BUILD: COMMAND_EXECUTION_ERROR: .*exit status 3$/);
    expect(done.timestamps.finishedAt).toBeDefined();
    expect(done.artifact).toBeUndefined();
    expect(done.buildLog.excerpt).toContain("compiling");
    expect(done.buildLog.excerpt).not.toContain("hunter2-very-secret");
    expect(JSON.stringify(done)).not.toContain("hunter2-very-secret");
    expect(existsSync(releaseFile(appId, done.id))).toBe(false);
    expect(sandboxes()).toEqual([]);
    const execution = await executionClosed(api, done.id);
    expect(execution.status).toBe("FAILED");
    expect(execution.history.map((e) => e.type === "StateEntered" && (e.state as { name: string }).name)).toContain("DestroyBuildEnvironment");
  });

  it("kills a build that exceeds its time limit, with its background processes", async () => {
    const appId = await newApp(api, "acme", { command: "sleep 30 & echo child=$!; echo shell=$$; wait" });
    await putSource(api, "acme", appId, "v1");
    const started = await startDeployment(api, "acme", appId);
    const done = await waitForStatus(api, "acme", appId, started.json.id, ["SUCCEEDED", "FAILED"]);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toMatch(/exceeded its time limit/);
    const pids = [...done.buildLog.excerpt.matchAll(/(?:child|shell)=(\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(isRunning(pid), `process ${pid} still running`).toBe(false);
    expect(sandboxes()).toEqual([]);
  });

  it("a ref with no upload is refused at the start (400), and a pending one whose object never came fails the build", async () => {
    const appId = await newApp(api, "acme");
    const refused = await startDeployment(api, "acme", appId, { source: { ref: "nope" } });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.json.detail).toContain('No source "nope"');
    // Announced (the form issued) but never uploaded: the build finds no object.
    const announced = await api.call(api.orgHost("acme"), "POST", `/v1/apps/${appId}/sources`, {
      token: api.tokens.member("acme", "developer"), body: { ref: "never", sha256: "0".repeat(64) },
    });
    expect(announced.status, announced.text).toBe(201);
    const started = await startDeployment(api, "acme", appId, { source: { ref: "never" } });
    const done = await waitForStatus(api, "acme", appId, started.json.id, ["SUCCEEDED", "FAILED"]);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toContain("DOWNLOAD_SOURCE");
    expect(done.failureReason).toContain(`s3://bulkhead-artifacts/acme/${appId}/sources/never.zip`);
  });

  it("cancel stops a running deployment: CANCELLED, execution aborted, sandbox destroyed", async () => {
    const appId = await newApp(api, "acme", { command: "echo started; sleep 30" });
    await putSource(api, "acme", appId, "v1");
    const started = await startDeployment(api, "acme", appId);
    const id = started.json.id as string;
    await waitForStatus(api, "acme", appId, id, ["BUILDING"]);
    const deadline = Date.now() + 5000;
    while (!api.offline.deployments.standIns.codeBuild.running().includes(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(api.offline.deployments.standIns.codeBuild.running()).toContain(id);

    const cancelled = await api.call(host(), "POST", `/v1/apps/${appId}/deployments/${id}/cancel`, { token: api.tokens.member("acme", "developer") });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json.status).toBe("CANCELLED");
    const execution = await executionClosed(api, id);
    expect(execution.status).toBe("ABORTED");
    expect(api.offline.deployments.standIns.codeBuild.running()).not.toContain(id);
    expect(sandboxes()).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect((await readDeployment(api, "acme", appId, id)).status).toBe("CANCELLED");
    expect(existsSync(releaseFile(appId, id))).toBe(false);

    const again = await api.call(host(), "POST", `/v1/apps/${appId}/deployments/${id}/cancel`, { token: api.tokens.member("acme", "developer") });
    expect(again.status).toBe(409);
  });
});

describe("the cross-account step offline", () => {
  it("a wrong ExternalId fails the deployment and writes no release", async () => {
    const { sts } = api.offline.deployments.standIns;
    const { hostedTarget } = deploymentsConfig();
    // The role's trust policy now expects an ExternalId the platform does not hold.
    sts.trust(hostedTarget.roleArn, "an-external-id-the-platform-never-sends");
    try {
      const appId = await newApp(api, "acme");
      await putSource(api, "acme", appId, "v1");
      const started = await startDeployment(api, "acme", appId);
      const done = await waitForStatus(api, "acme", appId, started.json.id, ["SUCCEEDED", "FAILED"]);
      expect(done.status).toBe("FAILED");
      expect(done.failureReason).toBe("the deploy role of target hosted could not be assumed: access denied");
      expect(existsSync(api.offline.deployments.standIns.target.releaseDir("hosted", "acme", appId))).toBe(false);
      expect(done.artifact).toBeDefined();
    } finally {
      sts.trust(hostedTarget.roleArn, hostedTarget.externalId);
    }
  });

  it("no credential, ExternalId or parent secret is in any execution history, record or response", async () => {
    const appId = await newApp(api, "acme");
    await putSource(api, "acme", appId, "v1");
    const started = await startDeployment(api, "acme", appId);
    await waitForStatus(api, "acme", appId, started.json.id, ["SUCCEEDED"]);
    const issued = api.offline.deployments.standIns.sts.issued();
    expect(issued.length).toBeGreaterThan(0);
    const secrets = [
      ...issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]),
      deploymentsConfig().hostedTarget.externalId,
      api.offline.config.cursorKey,
      PARENT_SECRET,
    ];
    const histories = JSON.stringify(api.offline.deployments.executor.list().map((e) => e.history));
    const table = JSON.stringify(await api.dumpTable());
    const listed = (await api.call(host(), "GET", `/v1/apps/${appId}/deployments`, { token: api.tokens.member("acme", "viewer") })).text;
    const release = readFileSync(releaseFile(appId, started.json.id), "utf8");
    for (const secret of secrets) {
      for (const [where, text] of Object.entries({ histories, table, listed, release })) {
        expect(text.includes(secret), `${where} holds a secret`).toBe(false);
      }
    }
  });
});

describe("starting deployments", () => {
  it("an Idempotency-Key replay returns the same deployment and starts no second execution", async () => {
    const appId = await newApp(api, "acme");
    await putSource(api, "acme", appId, "v1");
    const before = api.offline.deployments.executor.list().length;
    const headers = { "idempotency-key": "deploy-v1-attempt-1" };
    const first = await startDeployment(api, "acme", appId, { source: { ref: "v1" } }, headers);
    const second = await startDeployment(api, "acme", appId, { source: { ref: "v1" } }, headers);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.json.id).toBe(first.json.id);
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    await waitForStatus(api, "acme", appId, first.json.id, ["SUCCEEDED"]);
    const third = await startDeployment(api, "acme", appId, { source: { ref: "v1" } }, headers);
    expect(third.json).toMatchObject({ id: first.json.id, status: "SUCCEEDED" });
    expect(api.offline.deployments.executor.list().length).toBe(before + 1);

    await putSource(api, "acme", appId, "v2");
    const reused = await startDeployment(api, "acme", appId, { source: { ref: "v2" } }, headers);
    expect(reused.status).toBe(422);
    expect(reused.json.type).toBe("urn:bulkhead:problem:idempotency-key-reused");

    const list = await api.call(host(), "GET", `/v1/apps/${appId}/deployments`, { token: api.tokens.member("acme", "viewer") });
    expect(list.json.items).toHaveLength(1);
  });

  it("concurrent requests with one Idempotency-Key create one deployment", async () => {
    const appId = await newApp(api, "acme");
    await putSource(api, "acme", appId, "v1");
    const headers = { "idempotency-key": "concurrent-key" };
    const replies = await Promise.all(Array.from({ length: 5 }, () => startDeployment(api, "acme", appId, { source: { ref: "v1" } }, headers)));
    expect(new Set(replies.map((r) => r.status))).toEqual(new Set([202]));
    expect(new Set(replies.map((r) => r.json.id)).size).toBe(1);
    expect(api.offline.deployments.executor.list().filter((e) => e.input.appId === appId)).toHaveLength(1);
  });

  it("lists an app's deployments newest first, with signed cursors", async () => {
    const appId = await newApp(api, "acme");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) await putSource(api, "acme", appId, `r${i}`);
    for (let i = 0; i < 5; i++) ids.push((await startDeployment(api, "acme", appId, { source: { ref: `r${i}` } })).json.id);
    const token = api.tokens.member("acme", "viewer");
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.call(host(), "GET", `/v1/apps/${appId}/deployments?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token });
      expect(page.status).toBe(200);
      seen.push(...page.json.items.map((d: { id: string }) => d.id));
      cursor = page.json.cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect(seen).toEqual([...seen].sort().reverse());
  });

  it("refuses bad requests with problems, writing nothing", async () => {
    const appId = await newApp(api, "acme");
    const token = api.tokens.member("acme", "developer");
    const path = `/v1/apps/${appId}/deployments`;
    const before = await api.partition(`ORG#acme#APP#${appId}`);
    const cases: [object, number][] = [
      [{}, 400],
      [{ source: {} }, 400],
      [{ source: { ref: "../etc" } }, 400],
      [{ source: { ref: "a/b" } }, 400],
      [{ source: { ref: "v1" }, target: "nosuchtargetnosuchtargetxx" }, 400],
      [{ source: { ref: "v1" }, target: "Bad!" }, 400],
      [{ source: { ref: "v1" }, extra: true }, 400],
    ];
    for (const [body, status] of cases) {
      const reply = await api.call(host(), "POST", path, { token, body });
      expect(reply.status, JSON.stringify(body)).toBe(status);
      expect(reply.headers["content-type"]).toBe("application/problem+json");
    }
    const badKey = await api.call(host(), "POST", path, { token, body: { source: { ref: "v1" } }, headers: { "idempotency-key": "x".repeat(256) } });
    expect(badKey.status).toBe(400);
    expect((await api.call(host(), "POST", `/v1/apps/${"a".repeat(26)}/deployments`, { token, body: { source: { ref: "v1" } } })).status).toBe(404);
    expect((await api.call(host(), "GET", `${path}/01ARZ3NDEKTSV4RRFFQ69G5FAV`, { token })).status).toBe(404);
    expect((await api.call(host(), "GET", `${path}/not-a-ulid`, { token })).status).toBe(400);
    expect((await api.call(host(), "POST", `${path}/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel`, { token })).status).toBe(404);
    expect(await api.partition(`ORG#acme#APP#${appId}`)).toEqual(before);
  });

  it("a deployment of one app is not reachable through another app's path", async () => {
    const appA = await newApp(api, "acme");
    const appB = await newApp(api, "acme");
    await putSource(api, "acme", appA, "v9");
    const started = await startDeployment(api, "acme", appA, { source: { ref: "v9" } });
    const token = api.tokens.member("acme", "owner");
    // Nor can app B deploy app A's source: a ref is looked up in the deploying app's own partition.
    const borrowed = await startDeployment(api, "acme", appB, { source: { ref: "v9" } });
    expect(borrowed.status, borrowed.text).toBe(400);
    expect(borrowed.json.detail).toContain('No source "v9"');
    expect((await api.call(host(), "GET", `/v1/apps/${appB}/deployments/${started.json.id}`, { token })).status).toBe(404);
    expect((await api.call(host(), "POST", `/v1/apps/${appB}/deployments/${started.json.id}/cancel`, { token })).status).toBe(404);
    const listB = await api.call(host(), "GET", `/v1/apps/${appB}/deployments`, { token });
    expect(listB.json.items).toEqual([]);
  });
});
