import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { artifactReadSession, deploymentAppNames, releaseSession } from "../packages/core/src/deployments/documents.ts";
import { artifactReaderTrust } from "../packages/core/src/iam/artifact-reader.ts";
import { artifactsStandIn } from "../packages/local/src/standins/artifacts.ts";
import { deploySessionTags } from "../packages/core/src/iam/customer-deploy-trust.ts";
import { artifactKey as artifactKeyOf, type AppNames } from "../packages/core/src/iam/names.ts";
import type { ResolvedTarget } from "../packages/core/src/deployments/ports.ts";
import { codeBuildStandIn } from "../packages/local/src/standins/codebuild.ts";
import { localLogGroups } from "../packages/local/src/standins/logs.ts";
import { BadObjectKey, localObjectStore } from "../packages/local/src/standins/object-store.ts";
import { isAllowed } from "../packages/local/src/standins/policy-evaluation.ts";
import { customerDeployTrust } from "../packages/core/src/iam/customer-deploy-trust.ts";
import { recordTrustPolicy, stsStandIn, trustFileOf } from "../packages/local/src/standins/sts.ts";
import { targetStandIn } from "../packages/local/src/standins/target.ts";

/** The offline stand-ins refuse what their cloud counterparts would. */
const ROLE = "arn:aws:iam::000000000000:role/bulkhead/deploy/hosted-deploy";
const EXTERNAL_ID = "x".repeat(40);
const CALLER = "arn:aws:iam::000000000000:role/bulkhead-deployer";
const DEPLOYMENT = "01J9Z6W0C8M3Q9N6R2B7T4V5X1";
const names = deploymentAppNames({ org: "acme", appId: "a".repeat(26) });
const target: ResolvedTarget = { id: "hosted", kind: "hosted", roleArn: ROLE, externalId: EXTERNAL_ID, region: "us-east-1", accountId: "000000000000" };
const artifactKey = artifactKeyOf(names, DEPLOYMENT);
/** The session policy the workflow would pass for `app`'s release (deployments/documents.ts). */
const sessionPolicyFor = (app: AppNames) => releaseSession({ target, names: app, deploymentId: DEPLOYMENT }).policy;
const sessionTags = (org: string, app: string, deployment: string) => deploySessionTags({ org, app, deployment });
const request = (overrides: object = {}) => ({
  roleArn: ROLE, externalId: EXTERNAL_ID, sessionName: DEPLOYMENT, durationSeconds: 900,
  tags: sessionTags("acme", names.app, DEPLOYMENT),
  policy: sessionPolicyFor(names),
  ...overrides,
});

describe("STS stand-in", () => {
  it("issues credentials only for a trusted role with its ExternalId", async () => {
    let now = 1_000_000;
    const sts = stsStandIn({ callerArn: CALLER, now: () => now });
    sts.trust(ROLE, EXTERNAL_ID);
    await expect(sts.assumeRole(request({ externalId: "y".repeat(40) }))).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(sts.assumeRole(request({ roleArn: `${ROLE}-other` }))).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(sts.assumeRole(request({ durationSeconds: 899 }))).rejects.toMatchObject({ name: "ValidationError" });
    await expect(sts.assumeRole(request({ sessionName: "has space" }))).rejects.toMatchObject({ name: "ValidationError" });
    const credentials = await sts.assumeRole(request());
    expect(credentials.accessKeyId).toMatch(/^ASIA[0-9A-F]{16}$/);
    expect(sts.session(credentials)).toMatchObject({ roleArn: ROLE, sessionName: DEPLOYMENT, tags: { org: "acme", app: names.app, deployment: DEPLOYMENT } });
    expect(sts.session({ ...credentials, secretAccessKey: "forged" })).toBeUndefined();
    now += 900_000;
    expect(sts.session(credentials)).toBeUndefined();
  });
});

describe("STS stand-in: a customer's trust policy", () => {
  const CUSTOMER_ROLE = "arn:aws:iam::123456789012:role/bulkhead-deploy-acme";
  const TARGET_EXTERNAL_ID = "t".repeat(43);
  const pasted = customerDeployTrust({ deployerRoleArn: CALLER, externalId: TARGET_EXTERNAL_ID, org: "acme" });
  const byoi = (overrides: object = {}) => request({ roleArn: CUSTOMER_ROLE, externalId: TARGET_EXTERNAL_ID, ...overrides });

  it("no trust recorded: every ExternalId is refused, and the call is seen", async () => {
    const sts = stsStandIn({ callerArn: CALLER });
    await expect(sts.assumeRole(byoi())).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(sts.assumeRole(byoi({ externalId: "" }))).rejects.toMatchObject({ name: "AccessDenied" });
    expect(sts.calls()).toEqual([
      { roleArn: CUSTOMER_ROLE, sessionName: DEPLOYMENT, allowed: false },
      { roleArn: CUSTOMER_ROLE, sessionName: DEPLOYMENT, allowed: false },
    ]);
  });

  it("is evaluated as IAM would: principal, ExternalId, the org's session tag, no other tag keys", async () => {
    const sts = stsStandIn({ callerArn: CALLER });
    sts.trustPolicy(CUSTOMER_ROLE, pasted);
    expect((await sts.assumeRole(byoi())).accessKeyId).toMatch(/^ASIA/);
    await expect(sts.assumeRole(byoi({ externalId: "u".repeat(43) }))).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(sts.assumeRole(byoi({ tags: sessionTags("globex", names.app, DEPLOYMENT) }))).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(sts.assumeRole(byoi({ tags: [...sessionTags("acme", names.app, DEPLOYMENT), { key: "admin", value: "true" }] })))
      .rejects.toMatchObject({ name: "AccessDenied" });
    const otherCaller = stsStandIn({ callerArn: "arn:aws:iam::000000000000:role/someone-else" });
    otherCaller.trustPolicy(CUSTOMER_ROLE, pasted);
    await expect(otherCaller.assumeRole(byoi())).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("an explicit Deny wins, and an operator it does not know fails closed", async () => {
    const sts = stsStandIn({ callerArn: CALLER });
    sts.trustPolicy(CUSTOMER_ROLE, { ...pasted, Statement: [...pasted.Statement, { Effect: "Deny", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }] });
    await expect(sts.assumeRole(byoi())).rejects.toMatchObject({ name: "AccessDenied" });
    sts.trustPolicy(CUSTOMER_ROLE, {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: CALLER }, Action: ["sts:AssumeRole", "sts:TagSession"], Condition: { StringNotEquals: { "sts:ExternalId": "x" } } }],
    });
    await expect(sts.assumeRole(byoi())).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("recorded in the data dir, a trust is seen by a stand-in started before it was recorded (npm start and npm run trust)", async () => {
    const file = trustFileOf(mkdtempSync(join(tmpdir(), "bulkhead-sts-")));
    const running = stsStandIn({ callerArn: CALLER, trustFile: file });
    await expect(running.assumeRole(byoi())).rejects.toMatchObject({ name: "AccessDenied" });
    recordTrustPolicy(file, CUSTOMER_ROLE, pasted);
    expect((await running.assumeRole(byoi())).accessKeyId).toMatch(/^ASIA/);
    expect(() => recordTrustPolicy(file, "not-a-role", pasted)).toThrow(TypeError);
    expect(() => recordTrustPolicy(file, CUSTOMER_ROLE, { Version: "2012-10-17", Statement: [] })).toThrow();
  });
});

describe("target stand-in", () => {
  const setup = async (policyFor = names) => {
    const root = mkdtempSync(join(tmpdir(), "bulkhead-target-"));
    const code = Buffer.from("zip bytes");
    const sts = stsStandIn({ callerArn: CALLER });
    sts.trust(ROLE, EXTERNAL_ID);
    const credentials = await sts.assumeRole(request({ policy: sessionPolicyFor(policyFor) }));
    const deployer = targetStandIn({ root: join(root, "targets"), sts });
    const artifact = { location: `arn:aws:s3:::b/${artifactKey}`, sha256: createHash("sha256").update(code).digest("hex") };
    return { deployer, credentials, artifact, code };
  };

  it("applies the uploaded code with the session's credentials and records no credential", async () => {
    const { deployer, credentials, artifact, code } = await setup();
    expect(await deployer.apply({ target, names, deploymentId: DEPLOYMENT, artifact, code, credentials })).toEqual({ releaseId: `${names.releaseFunction}:${DEPLOYMENT}` });
  });

  it("refuses a session whose policy is for another app", async () => {
    const { deployer, credentials, artifact, code } = await setup(deploymentAppNames({ org: "acme", appId: "b".repeat(26) }));
    await expect(deployer.apply({ target, names, deploymentId: DEPLOYMENT, artifact, code, credentials })).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("refuses unknown credentials, code whose digest differs, and code over Lambda's 50 MiB direct upload", async () => {
    const { deployer, credentials, artifact, code } = await setup();
    await expect(deployer.apply({ target, names, deploymentId: DEPLOYMENT, artifact, code, credentials: { ...credentials, sessionToken: "x" } }))
      .rejects.toMatchObject({ name: "AccessDenied" });
    await expect(deployer.apply({ target, names, deploymentId: DEPLOYMENT, artifact: { ...artifact, sha256: "0".repeat(64) }, code, credentials }))
      .rejects.toMatchObject({ name: "Bulkhead.ReleaseMismatch" });
    const big = Buffer.alloc(50 * 1024 * 1024 + 1);
    await expect(deployer.apply({ target, names, deploymentId: DEPLOYMENT, artifact: { ...artifact, sha256: createHash("sha256").update(big).digest("hex") }, code: big, credentials }))
      .rejects.toMatchObject({ name: "RequestEntityTooLargeException" });
  });
});

describe("artifact store stand-in", () => {
  const READER = "arn:aws:iam::000000000000:role/bulkhead-local-artifact-reader";
  const setup = async (tags = sessionTags("acme", names.app, DEPLOYMENT), key = artifactKey) => {
    const root = mkdtempSync(join(tmpdir(), "bulkhead-artifacts-"));
    const store = localObjectStore(join(root, "objects"));
    const zip = Buffer.from("zip bytes");
    for (const k of [artifactKey, artifactKeyOf(names, "01J9Z6W0C8M3Q9N6R2B7T4V5X2")]) {
      mkdirSync(join(store.path("b", k), ".."), { recursive: true });
      writeFileSync(store.path("b", k), zip);
    }
    const sts = stsStandIn({ callerArn: CALLER });
    sts.trustPolicy(READER, artifactReaderTrust({ deployerRoleArn: CALLER }));
    const session = artifactReadSession({ config: { region: "us-east-1", accountId: "000000000000" }, names, deploymentId: DEPLOYMENT, artifact: { bucket: "b", key } });
    const credentials = await sts.assumeRole({ roleArn: READER, sessionName: DEPLOYMENT, durationSeconds: 900, tags, policy: session.policy });
    const reader = artifactsStandIn({ store, sts, readerRoleArn: READER, accountId: "000000000000" });
    return { reader, credentials, sts, zip };
  };
  const read = (key: string, overrides: object = {}) => ({ bucket: "b", key, accountId: "000000000000", region: "us-east-1", maxBytes: 1024, ...overrides });

  it("reads this deployment's artifact with the reader's session, and no other object", async () => {
    const { reader, credentials, zip } = await setup();
    expect(await reader.read({ ...read(artifactKey), credentials })).toEqual({ size: zip.length, bytes: zip });
    await expect(reader.read({ ...read(artifactKeyOf(names, "01J9Z6W0C8M3Q9N6R2B7T4V5X2")), credentials })).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(reader.read({ ...read(artifactKey, { accountId: "111111111111" }), credentials })).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(reader.read({ ...read(artifactKey), credentials: { ...credentials, secretAccessKey: "forged" } })).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("refuses a session tagged for another deployment, and says only the size of an object over the limit", async () => {
    const { reader, credentials } = await setup(sessionTags("acme", names.app, "01J9Z6W0C8M3Q9N6R2B7T4V5X2"));
    await expect(reader.read({ ...read(artifactKey), credentials })).rejects.toMatchObject({ name: "AccessDenied" });
    const own = await setup();
    expect(await own.reader.read({ ...read(artifactKey, { maxBytes: 4 }), credentials: own.credentials })).toEqual({ size: own.zip.length });
  });

  it("is assumable by the deployer only, with the deployment's tags and no others", async () => {
    const { sts } = await setup();
    const other = stsStandIn({ callerArn: "arn:aws:iam::000000000000:role/someone-else" });
    other.trustPolicy(READER, artifactReaderTrust({ deployerRoleArn: CALLER }));
    await expect(other.assumeRole({ roleArn: READER, sessionName: DEPLOYMENT, durationSeconds: 900, tags: sessionTags("acme", names.app, DEPLOYMENT), policy: "{}" }))
      .rejects.toMatchObject({ name: "AccessDenied" });
    await expect(sts.assumeRole({ roleArn: READER, sessionName: DEPLOYMENT, durationSeconds: 900, tags: [...sessionTags("acme", names.app, DEPLOYMENT), { key: "admin", value: "1" }], policy: "{}" }))
      .rejects.toMatchObject({ name: "AccessDenied" });
  });
});

describe("policy evaluation", () => {
  const policy = { Version: "2012-10-17" as const, Statement: [
    { Effect: "Allow", Action: ["lambda:Update*"], Resource: "arn:aws:lambda:*:*:function:bh-acme-*" },
    { Effect: "Deny", Action: "lambda:UpdateAlias", Resource: "*" },
    { Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "true" } } },
  ] };
  it("explicit deny wins, wildcards match, conditional allows do not allow", () => {
    expect(isAllowed(policy, "lambda:UpdateFunctionCode", "arn:aws:lambda:us-east-1:1:function:bh-acme-x")).toBe(true);
    expect(isAllowed(policy, "lambda:UpdateFunctionCode", "arn:aws:lambda:us-east-1:1:function:bh-globex-x")).toBe(false);
    expect(isAllowed(policy, "lambda:UpdateAlias", "arn:aws:lambda:us-east-1:1:function:bh-acme-x")).toBe(false);
    expect(isAllowed(policy, "s3:GetObject", "arn:aws:s3:::b/k")).toBe(false);
  });
});

describe("object store and log stand-ins", () => {
  it("refuse keys that could leave their bucket", () => {
    const store = localObjectStore("/tmp/store");
    for (const key of ["../x", "a/../../x", "/abs", "a//b", ".hidden", "a/./b"]) expect(() => store.path("b", key), key).toThrow(BadObjectKey);
    expect(() => store.path("..", "k")).toThrow(BadObjectKey);
    expect(store.path("b", "org/app/sources/v1/")).toBe("/tmp/store/b/org/app/sources/v1");
    expect(() => localLogGroups("/tmp/logs").streamFile("/bulkhead/../etc", "s")).toThrow();
  });
});

describe("CodeBuild stand-in", () => {
  it("refuses a request CodeBuild would not run, or one carrying secrets", async () => {
    const root = mkdtempSync(join(tmpdir(), "bulkhead-cb-"));
    const codeBuild = codeBuildStandIn({ store: localObjectStore(join(root, "o")), logs: localLogGroups(join(root, "l")), sandboxRoot: join(root, "s") });
    await expect(codeBuild.startBuildSync({ ProjectName: "p" })).rejects.toMatchObject({ name: "CodeBuild.InvalidInputException" });
    const base = {
      ProjectName: "p", IdempotencyToken: DEPLOYMENT, SourceTypeOverride: "S3", SourceLocationOverride: "b/acme/x/sources/v1/",
      ServiceRoleOverride: "arn:aws:iam::0:role/r", BuildspecOverride: JSON.stringify({ version: 0.2, phases: {}, artifacts: { files: ["**/*"] } }),
      EnvironmentVariablesOverride: [{ Name: "X", Value: "1", Type: "PLAINTEXT" }],
      ArtifactsOverride: { Type: "S3", Location: "b", Path: "acme/x/d", Name: "artifact.zip", NamespaceType: "NONE", Packaging: "ZIP" },
      LogsConfigOverride: { CloudWatchLogs: { Status: "ENABLED", GroupName: "/bulkhead/acme/x/build", StreamName: DEPLOYMENT } },
      TimeoutInMinutesOverride: 5, QueuedTimeoutInMinutesOverride: 5,
    };
    for (const variables of [
      [{ Name: "DB_PASSWORD", Value: "/prod/db", Type: "SECRETS_MANAGER" }],
      [{ Name: "AWS_ACCESS_KEY_ID", Value: "AKIA", Type: "PLAINTEXT" }],
    ]) {
      await expect(codeBuild.startBuildSync({ ...base, EnvironmentVariablesOverride: variables })).rejects.toMatchObject({ name: "CodeBuild.InvalidInputException" });
    }
    await expect(codeBuild.startBuildSync({ ...base, BuildspecOverride: "phases: yaml" })).rejects.toMatchObject({ name: "CodeBuild.InvalidInputException" });
  });
});
