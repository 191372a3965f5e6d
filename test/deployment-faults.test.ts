import "aws-sdk-client-mock-vitest/extend";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { LambdaClient, UpdateAliasCommand, UpdateFunctionCodeCommand, type UpdateFunctionCodeCommandInput } from "@aws-sdk/client-lambda";
import { GetObjectCommand, S3Client, type GetObjectCommandInput } from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { lambdaAliasTargets } from "../packages/core/src/deployments/cloud/lambda-target.ts";
import { s3Artifacts } from "../packages/core/src/deployments/cloud/s3-artifacts.ts";
import { stsRoleAssumer } from "../packages/core/src/deployments/cloud/sts.ts";
import { deploymentsConfig } from "../packages/core/src/deployments/config.ts";
import { deployGrants } from "../packages/core/src/deployments/grants.ts";
import type { GrantCheck } from "../packages/core/src/deployments/ports.ts";
import { useDeploymentPorts } from "../packages/core/src/deployments/select-ports.ts";
import { RELEASE_ZIP_MAX_BYTES } from "../packages/core/src/deployments/steps/deploy.ts";
import { RELEASE_ACTIONS } from "../packages/core/src/iam/phases.ts";
import { taskError } from "../packages/core/src/workflows/errors.ts";
import { PRODUCTION_WORKFLOW_OPTIONS } from "../packages/core/src/workflows/options.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { executionClosed, newApp, putSource, startDeployment, waitForStatus } from "./support/deployments.ts";
import { byoiTarget } from "./support/samples.ts";

/**
 * Faults around the cross-account step, run through the real workflow offline but with the
 * cloud STS, S3 artifact-reader and Lambda-target adapters, their AWS clients under
 * aws-sdk-client-mock.
 */
const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);
const s3 = mockClient(S3Client);
const issued = { AccessKeyId: "ASIAMOCKMOCKMOCK0001", SecretAccessKey: "mock-secret-access-key-9f8e7d6c5b4a", SessionToken: "mock-session-token-1a2b3c4d5e6f" };
const throttled = () => Object.assign(new Error("Rate exceeded"), { name: "Throttling", $metadata: { httpStatusCode: 400 } });
const denied = (name = "AccessDenied") => Object.assign(new Error("not authorized"), { name, $metadata: { httpStatusCode: 403 } });

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ workflows: { ports: { roles: stsRoleAssumer(), artifacts: s3Artifacts(), targets: lambdaAliasTargets() } } });
});
afterAll(() => api?.stop());
beforeEach(() => s3StoresArtifacts());
afterEach(() => {
  sts.reset();
  lambda.reset();
  s3.reset();
  useDeploymentPorts({ grants: deployGrants() });
});

/** Lambda answers with the SHA-256 of the code it was sent, as it does. */
function lambdaDeploys(firstError?: Error) {
  const update = lambda.on(UpdateFunctionCodeCommand);
  (firstError ? update.rejectsOnce(firstError) : update).callsFake(async (input: UpdateFunctionCodeCommandInput) => {
    return { Version: "3", CodeSha256: createHash("sha256").update(input.ZipFile!).digest("base64") };
  });
  lambda.on(UpdateAliasCommand).resolves({});
}

/** S3 serves what the build wrote into the object-store stand-in; `size` overrides the length S3 reports. */
function s3StoresArtifacts(size?: number) {
  s3.on(GetObjectCommand).callsFake(async (input: GetObjectCommandInput) => {
    const bytes = new Uint8Array(readFileSync(api.offline.deployments.standIns.store.path(input.Bucket!, input.Key!)));
    return { Body: Object.assign(Readable.from([Buffer.from(bytes)]), { transformToByteArray: async () => bytes }), ContentLength: size ?? bytes.length };
  });
}
/** What a session policy allows: the release session policy allows no S3 action at all. */
const allowedActions = (policy: string): string[] =>
  (JSON.parse(policy) as { Statement: { Effect: string; Action: string[] }[] }).Statement.filter((st) => st.Effect === "Allow").flatMap((st) => st.Action);
const readerRole = () => deploymentsConfig().artifactReaderRoleArn;
const assumed = (roleArn: string) => sts.commandCalls(AssumeRoleCommand).filter((c) => c.args[0].input.RoleArn === roleArn).map((c) => c.args[0].input);
const stsIssues = () => sts.on(AssumeRoleCommand).resolves({ Credentials: { ...issued, Expiration: new Date(Date.now() + 900_000) } });

async function deploy(target?: string) {
  const appId = await newApp(api, "acme");
  await putSource(api, "acme", appId, "v1");
  const started = await startDeployment(api, "acme", appId, { source: { ref: "v1" }, ...(target && { target }) });
  expect(started.status, started.text).toBe(202);
  const done = await waitForStatus(api, "acme", appId, started.json.id, ["SUCCEEDED", "FAILED"]);
  return { appId, done, execution: await executionClosed(api, done.id) };
}

/** A BYOI target registered the way an org admin does it; the response holds its ExternalId (once). */
async function registerByoiTarget() {
  const reply = await api.call(api.orgHost("acme"), "POST", "/v1/targets", { token: api.tokens.member("acme", "admin"), body: byoiTarget("acme", "customer account") });
  expect(reply.status, reply.text).toBe(201);
  return reply.json as { id: string; deployRoleArn: string; externalId: string };
}

const retriesOf = (execution: { history: { type: string; state?: unknown }[] }, state: string) =>
  execution.history.filter((e) => e.type === "StateRetried" && (e.state as { name: string }).name === state).length;

describe("STS faults", () => {
  it("throttling, then success: the deployment succeeds after a retry, AssumeRole carrying every parameter", async () => {
    sts.on(AssumeRoleCommand).rejectsOnce(throttled()).resolves({ Credentials: { ...issued, Expiration: new Date(Date.now() + 900_000) } });
    lambdaDeploys();
    const { appId, done, execution } = await deploy();
    expect(done.status, done.failureReason).toBe("SUCCEEDED");
    expect(done.release.id).toBe(`bh-acme-${appId}:3`);
    expect(retriesOf(execution, "ApplyRelease")).toBe(1);
    // The throttled call was the artifact reader's, then the reader's again and the target's.
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 3);
    const { hostedTarget } = deploymentsConfig();
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: hostedTarget.roleArn,
      ExternalId: hostedTarget.externalId,
      RoleSessionName: done.id,
      DurationSeconds: 900,
      Tags: [{ Key: "org", Value: "acme" }, { Key: "app", Value: appId }, { Key: "deployment", Value: done.id }],
    });
    const [release] = assumed(hostedTarget.roleArn);
    expect(release!.Policy).toContain(`function:bh-acme-${appId}`);
    expect(allowedActions(release!.Policy!)).toEqual([...RELEASE_ACTIONS]);
    // The artifact is read in the platform's account, with the reader's session for this deployment only.
    const reads = assumed(readerRole());
    expect(reads).toHaveLength(2);
    expect(reads[1]).toMatchObject({
      RoleSessionName: done.id, DurationSeconds: 900,
      Tags: [{ Key: "org", Value: "acme" }, { Key: "app", Value: appId }, { Key: "deployment", Value: done.id }],
    });
    expect(reads[1]!.ExternalId).toBeUndefined();
    expect(JSON.parse(reads[1]!.Policy!).Statement).toEqual([{
      Sid: "ReadThisArtifact", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::bulkhead-artifacts/acme/${appId}/${done.id}/artifact.zip`],
    }]);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: "bulkhead-artifacts", Key: `acme/${appId}/${done.id}/artifact.zip`, ExpectedBucketOwner: deploymentsConfig().accountId });
    const code = lambda.commandCalls(UpdateFunctionCodeCommand).at(-1)!.args[0].input;
    expect(code.S3Bucket).toBeUndefined();
    expect(createHash("sha256").update(code.ZipFile!).digest("hex")).toBe(done.artifact.sha256);
    expect(lambda).toHaveReceivedCommandWith(UpdateAliasCommand, { FunctionName: `bh-acme-${appId}`, Name: "live", FunctionVersion: "3" });
  });

  it("access denied: FAILED with the reason, no retry, the target never called", async () => {
    sts.on(AssumeRoleCommand).rejects(denied());
    sts.on(AssumeRoleCommand, { RoleArn: readerRole() }).resolves({ Credentials: { ...issued, Expiration: new Date(Date.now() + 900_000) } });
    lambdaDeploys();
    const { done, execution } = await deploy();
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("the deploy role of target hosted could not be assumed: access denied");
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(retriesOf(execution, "ApplyRelease")).toBe(0);
    expect(lambda).toHaveReceivedCommandTimes(UpdateFunctionCodeCommand, 0);
  });

  it("throttling that never ends: FAILED after the definition's retries", async () => {
    sts.on(AssumeRoleCommand).rejects(throttled());
    const { done, execution } = await deploy();
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toMatch(/could not be assumed: throttled$/);
    expect(retriesOf(execution, "ApplyRelease")).toBe(PRODUCTION_WORKFLOW_OPTIONS.retry.maxAttempts);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, PRODUCTION_WORKFLOW_OPTIONS.retry.maxAttempts + 1);
  });
});

describe("artifact faults", () => {
  it("an artifact over Lambda's 50 MiB direct upload: FAILED with its size and the limit, before the target's role is assumed; nothing downloaded", async () => {
    stsIssues();
    lambdaDeploys();
    s3StoresArtifacts(RELEASE_ZIP_MAX_BYTES + 1);
    const { done, execution } = await deploy();
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("the artifact is 50.0 MiB; a release is uploaded to its target directly, which takes at most 50.0 MiB zipped");
    expect(retriesOf(execution, "ApplyRelease")).toBe(0);
    expect(assumed(deploymentsConfig().hostedTarget.roleArn)).toEqual([]);
    expect(lambda).toHaveReceivedCommandTimes(UpdateFunctionCodeCommand, 0);
  });

  it("a stored artifact that is not what the build reported: FAILED, the target never called", async () => {
    stsIssues();
    lambdaDeploys();
    s3.on(GetObjectCommand).resolves({ Body: Object.assign(Readable.from([Buffer.from("tampered")]), { transformToByteArray: async () => new Uint8Array(Buffer.from("tampered")) }) as never, ContentLength: 8 });
    const { done } = await deploy();
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("the stored artifact does not match the built artifact's SHA-256");
    expect(lambda).toHaveReceivedCommandTimes(UpdateFunctionCodeCommand, 0);
  });

  it("the artifact reader refused: FAILED with the reason, the target's role never assumed", async () => {
    stsIssues();
    s3.on(GetObjectCommand).rejects(denied());
    const { done } = await deploy();
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("the artifact could not be read: access denied");
    expect(assumed(deploymentsConfig().hostedTarget.roleArn)).toEqual([]);
  });
});

describe("target faults", () => {
  it("throttling, then success: succeeds after a retry", async () => {
    stsIssues();
    lambdaDeploys(Object.assign(new Error("slow down"), { name: "TooManyRequestsException", $metadata: { httpStatusCode: 429 } }));
    const { done, execution } = await deploy();
    expect(done.status, done.failureReason).toBe("SUCCEEDED");
    expect(retriesOf(execution, "ApplyRelease")).toBe(1);
  });

  it("access denied: FAILED with the reason", async () => {
    stsIssues();
    lambda.on(UpdateFunctionCodeCommand).rejects(denied("AccessDeniedException"));
    const { done } = await deploy();
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("target hosted did not accept the release: access denied");
  });

  it("code that is not the artifact: FAILED, the alias not moved", async () => {
    stsIssues();
    lambda.on(UpdateFunctionCodeCommand).resolves({ Version: "4", CodeSha256: Buffer.alloc(32).toString("base64") });
    const { done } = await deploy();
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toMatch(/does not match the built artifact/);
    expect(lambda).toHaveReceivedCommandTimes(UpdateAliasCommand, 0);
  });
});

describe("grants", () => {
  it("are checked at CheckTarget, before AssumeRole and right before applying, the last pinned to the grant found before AssumeRole", async () => {
    stsIssues();
    lambdaDeploys();
    const checks: GrantCheck[] = [];
    useDeploymentPorts({
      grants: {
        async check(request) {
          checks.push(request);
          if (request.moment === "before-apply") throw taskError("grantDenied", "grant revoked");
          return { grantId: "pinnedgrantpinnedgrantpinn" };
        },
      },
    });
    const { done } = await deploy();
    expect(checks.map((c) => [c.moment, c.grantId])).toEqual([
      ["check-target", undefined], ["before-assume-role", undefined], ["before-apply", "pinnedgrantpinnedgrantpinn"],
    ]);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("grant revoked");
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(assumed(deploymentsConfig().hostedTarget.roleArn)).toHaveLength(1);
    expect(lambda).toHaveReceivedCommandTimes(UpdateFunctionCodeCommand, 0);
  });

  it("a customer-account (BYOI) target without a Deploy grant is refused before any AssumeRole", async () => {
    stsIssues();
    const targetId = (await registerByoiTarget()).id;
    const { done } = await deploy(targetId);
    expect(done.target).toEqual({ id: targetId, kind: "byoi" });
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("no grant");
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 0);
  });

  it("with an approved Deploy grant, AssumeRole names the customer's role and the target's own ExternalId", async () => {
    stsIssues();
    lambdaDeploys();
    const target = await registerByoiTarget();
    const grant = await api.call(api.orgHost("acme"), "POST", "/v1/grants", {
      token: api.tokens.platform("operator"), body: { phase: "Deploy", targetId: target.id, reason: "release", durationSeconds: 3600 },
    });
    expect(grant.status, grant.text).toBe(201);
    const approved = await api.call(api.orgHost("acme"), "POST", `/v1/grants/${grant.json.id}/approve`, { token: api.tokens.member("acme", "owner") });
    expect(approved.status, approved.text).toBe(200);
    const { appId, done } = await deploy(target.id);
    expect(done.status, done.failureReason).toBe("SUCCEEDED");
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: target.deployRoleArn,
      ExternalId: target.externalId,
      RoleSessionName: done.id,
      Tags: [{ Key: "org", Value: "acme" }, { Key: "app", Value: appId }, { Key: "deployment", Value: done.id }],
    });
    const policy = assumed(target.deployRoleArn)[0]!.Policy!;
    expect(policy).toContain(`arn:aws:lambda:eu-west-1:123456789012:function:bh-acme-${appId}`);
    expect(allowedActions(policy)).toEqual([...RELEASE_ACTIONS]);
  });
});

describe("secrets", () => {
  it("credentials and the ExternalId appear in no execution history, record or response", async () => {
    stsIssues();
    lambdaDeploys();
    const { appId, done } = await deploy();
    expect(done.status).toBe("SUCCEEDED");
    const secrets = [issued.AccessKeyId, issued.SecretAccessKey, issued.SessionToken, deploymentsConfig().hostedTarget.externalId];
    const histories = JSON.stringify(api.offline.deployments.executor.list().map((e) => e.history));
    const table = JSON.stringify(await api.dumpTable());
    const listed = (await api.call(api.orgHost("acme"), "GET", `/v1/apps/${appId}/deployments`, { token: api.tokens.member("acme", "viewer") })).text;
    expect(histories).toContain(done.id);
    for (const secret of secrets) {
      expect(histories).not.toContain(secret);
      expect(table).not.toContain(secret);
      expect(listed).not.toContain(secret);
    }
  });
});
