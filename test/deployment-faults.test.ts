import "aws-sdk-client-mock-vitest/extend";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { LambdaClient, UpdateAliasCommand, UpdateFunctionCodeCommand, type UpdateFunctionCodeCommandInput } from "@aws-sdk/client-lambda";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { lambdaAliasTargets } from "../packages/core/src/deployments/cloud/lambda-target.ts";
import { stsRoleAssumer } from "../packages/core/src/deployments/cloud/sts.ts";
import { deploymentsConfig } from "../packages/core/src/deployments/config.ts";
import { deployGrants } from "../packages/core/src/deployments/grants.ts";
import { useDeploymentPorts, type GrantCheck } from "../packages/core/src/deployments/ports.ts";
import { taskError } from "../packages/core/src/workflows/errors.ts";
import { PRODUCTION_WORKFLOW_OPTIONS } from "../packages/core/src/workflows/options.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { executionClosed, newApp, putSource, startDeployment, waitForStatus } from "./support/deployments.ts";
import { byoiTarget } from "./support/samples.ts";

/**
 * Faults around the cross-account step, run through the real workflow offline but with the
 * cloud STS and Lambda-target adapters, their AWS clients under aws-sdk-client-mock.
 */
const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);
const issued = { AccessKeyId: "ASIAMOCKMOCKMOCK0001", SecretAccessKey: "mock-secret-access-key-9f8e7d6c5b4a", SessionToken: "mock-session-token-1a2b3c4d5e6f" };
const throttled = () => Object.assign(new Error("Rate exceeded"), { name: "Throttling", $metadata: { httpStatusCode: 400 } });
const denied = (name = "AccessDenied") => Object.assign(new Error("not authorized"), { name, $metadata: { httpStatusCode: 403 } });

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ workflows: { ports: { roles: stsRoleAssumer(), targets: lambdaAliasTargets() } } });
});
afterAll(() => api?.stop());
afterEach(() => {
  sts.reset();
  lambda.reset();
  useDeploymentPorts({ grants: deployGrants() });
});

/** Lambda answers with the SHA-256 of the object it was pointed at, as it would after reading it from S3. */
function lambdaDeploys(firstError?: Error) {
  const update = lambda.on(UpdateFunctionCodeCommand);
  (firstError ? update.rejectsOnce(firstError) : update).callsFake(async (input: UpdateFunctionCodeCommandInput) => {
    const zip = readFileSync(api.offline.deployments.standIns.store.path(input.S3Bucket!, input.S3Key!));
    return { Version: "3", CodeSha256: createHash("sha256").update(zip).digest("base64") };
  });
  lambda.on(UpdateAliasCommand).resolves({});
}
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
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    const { hostedTarget } = deploymentsConfig();
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: hostedTarget.roleArn,
      ExternalId: hostedTarget.externalId,
      RoleSessionName: done.id,
      DurationSeconds: 900,
      Tags: [{ Key: "org", Value: "acme" }, { Key: "app", Value: appId }, { Key: "deployment", Value: done.id }],
    });
    const policy = JSON.parse(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.Policy!);
    expect(JSON.stringify(policy)).toContain(`function:bh-acme-${appId}`);
    expect(JSON.stringify(policy)).toContain(`${appId}/${done.id}/artifact.zip`);
    expect(lambda).toHaveReceivedCommandWith(UpdateAliasCommand, { FunctionName: `bh-acme-${appId}`, Name: "live", FunctionVersion: "3" });
  });

  it("access denied: FAILED with the reason, no retry, the target never called", async () => {
    sts.on(AssumeRoleCommand).rejects(denied());
    lambdaDeploys();
    const { done, execution } = await deploy();
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("the deploy role of target hosted could not be assumed: access denied");
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
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
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
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
    const policy = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.Policy!;
    expect(policy).toContain(`arn:aws:lambda:eu-west-1:123456789012:function:bh-acme-${appId}`);
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
