import "aws-sdk-client-mock-vitest/extend";
import { Readable } from "node:stream";
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, StopBuildCommand } from "@aws-sdk/client-codebuild";
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand, ResourceNotFoundException } from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateRoleCommand, EntityAlreadyExistsException, GetRoleCommand, IAMClient, NoSuchEntityException, PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { LambdaClient, UpdateAliasCommand, UpdateFunctionCodeCommand } from "@aws-sdk/client-lambda";
import { ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { iamBuildRoles } from "../packages/core/src/deployments/cloud/iam.ts";
import { codeBuildEnvironments } from "../packages/core/src/deployments/cloud/codebuild.ts";
import { lambdaAliasTargets } from "../packages/core/src/deployments/cloud/lambda-target.ts";
import { s3Artifacts } from "../packages/core/src/deployments/cloud/s3-artifacts.ts";
import { cloudWatchBuildLogs } from "../packages/core/src/deployments/cloud/logs.ts";
import { executionArnFor, sfnExecutions } from "../packages/core/src/deployments/cloud/sfn.ts";
import { stsRoleAssumer } from "../packages/core/src/deployments/cloud/sts.ts";
import { deploymentAppNames, releaseSession, workflowBuildRole } from "../packages/core/src/deployments/documents.ts";
import { artifactKey, artifactPath } from "../packages/core/src/iam/names.ts";
import type { PolicyDocument } from "../packages/core/src/iam/document.ts";
import { RELEASE_ACTIONS } from "../packages/core/src/iam/phases.ts";
import type { ResolvedTarget } from "../packages/core/src/deployments/ports.ts";
import { TASK_ERRORS } from "../packages/core/src/workflows/errors.ts";

/** The cloud adapters, each against aws-sdk-client-mock: the exact requests they send, and how they read answers. */
const STATE_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:bulkhead-prod-Deployment";
const CONFIG = { region: "eu-west-1", accountId: "123456789012", buildProject: "bulkhead-build", artifactBucket: "bulkhead-artifacts-prod" };
const names = deploymentAppNames({ org: "acme", appId: "a".repeat(26) });
const DEPLOYMENT = "01J9Z6W0C8M3Q9N6R2B7T4V5X1";
const TARGET: ResolvedTarget = {
  id: "hosted", kind: "hosted", roleArn: "arn:aws:iam::210987654321:role/bulkhead-deploy-hosted_prod", externalId: "ext-3b1f0c6a9d2e4f7a8b5c1d0e9f8a7b6c",
  region: "eu-west-1", accountId: "210987654321",
};
const serviceError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

const mocks = {
  sfn: mockClient(SFNClient),
  sts: mockClient(STSClient),
  iam: mockClient(IAMClient),
  codebuild: mockClient(CodeBuildClient),
  logs: mockClient(CloudWatchLogsClient),
  lambda: mockClient(LambdaClient),
  s3: mockClient(S3Client),
};
afterEach(() => Object.values(mocks).forEach((m) => m.reset()));

describe("Step Functions executions", () => {
  it("starts an execution named by the deployment id, with the ids as input", async () => {
    mocks.sfn.on(StartExecutionCommand).resolves({ executionArn: executionArnFor(STATE_MACHINE, DEPLOYMENT), startDate: new Date() });
    const port = sfnExecutions({ stateMachineArn: STATE_MACHINE });
    const input = { org: "acme", appId: names.app, deploymentId: DEPLOYMENT };
    const { executionArn } = await port.start(DEPLOYMENT, input);
    expect(executionArn).toBe(`arn:aws:states:eu-west-1:123456789012:execution:bulkhead-prod-Deployment:${DEPLOYMENT}`);
    expect(mocks.sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(mocks.sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: STATE_MACHINE, name: DEPLOYMENT, input: JSON.stringify(input) });
  });

  it("treats a name already used as that one execution", async () => {
    mocks.sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "exists", $metadata: {} }));
    const { executionArn } = await sfnExecutions({ stateMachineArn: STATE_MACHINE }).start(DEPLOYMENT, { org: "acme", appId: names.app, deploymentId: DEPLOYMENT });
    expect(executionArn).toBe(executionArnFor(STATE_MACHINE, DEPLOYMENT));
  });

  it("stops by the derived execution ARN; an unknown execution is not an error", async () => {
    mocks.sfn.on(StopExecutionCommand).rejectsOnce(new ExecutionDoesNotExist({ message: "none", $metadata: {} })).resolves({ stopDate: new Date() });
    const port = sfnExecutions({ stateMachineArn: STATE_MACHINE });
    await port.stop(DEPLOYMENT, { error: "Bulkhead.Cancelled", cause: "Cancelled by alice" });
    await port.stop(DEPLOYMENT, { error: "Bulkhead.Cancelled", cause: "Cancelled by alice" });
    expect(mocks.sfn).toHaveReceivedCommandWith(StopExecutionCommand, {
      executionArn: executionArnFor(STATE_MACHINE, DEPLOYMENT), error: "Bulkhead.Cancelled", cause: "Cancelled by alice",
    });
  });
});

describe("STS AssumeRole", () => {
  it("sends the role, ExternalId, session name, 900 s, session tags and the phase's session policy", async () => {
    const expiration = new Date(Date.now() + 900_000);
    mocks.sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: "ASIAEXAMPLEEXAMPLE01", SecretAccessKey: "s", SessionToken: "t", Expiration: expiration } });
    const { policy, tags } = releaseSession({ target: TARGET, names, deploymentId: DEPLOYMENT });
    const credentials = await stsRoleAssumer().assumeRole({
      roleArn: TARGET.roleArn, externalId: TARGET.externalId, sessionName: DEPLOYMENT, durationSeconds: 900, tags, policy,
    });
    expect(credentials).toEqual({ accessKeyId: "ASIAEXAMPLEEXAMPLE01", secretAccessKey: "s", sessionToken: "t", expiration });
    expect(mocks.sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: TARGET.roleArn,
      ExternalId: TARGET.externalId,
      RoleSessionName: DEPLOYMENT,
      DurationSeconds: 900,
      Tags: [{ Key: "org", Value: "acme" }, { Key: "app", Value: names.app }, { Key: "deployment", Value: DEPLOYMENT }],
      Policy: policy,
    });
  });

  it("the deploy session policy names only this app's function, nothing of the platform's bucket, and denies destruction", () => {
    const session = releaseSession({ target: TARGET, names, deploymentId: DEPLOYMENT });
    const policy = JSON.parse(session.policy) as PolicyDocument;
    const allowed = policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Resource ?? []);
    expect(allowed).toEqual([
      `arn:aws:lambda:eu-west-1:210987654321:function:bh-acme-${names.app}`,
      `arn:aws:lambda:eu-west-1:210987654321:function:bh-acme-${names.app}:*`,
    ]);
    expect(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action ?? [])).toEqual([...RELEASE_ACTIONS]);
    const denied = policy.Statement.filter((s) => s.Effect === "Deny").flatMap((s) => s.Action ?? []);
    expect(denied).toEqual(expect.arrayContaining(["s3:DeleteBucket", "iam:Put*", "iam:PassRole", "logs:DeleteLogGroup"]));
    expect(session.policy.length).toBeLessThanOrEqual(2048);
  });
});

describe("IAM build roles", () => {
  const documents = workflowBuildRole(CONFIG, names);
  const request = { names, path: "/bulkhead/build/", trustPolicy: documents.trust!, policy: documents.policy };
  const arn = `arn:aws:iam::123456789012:role/bulkhead/build/${names.buildRole}`;

  it("creates a missing role on the build path, tagged, with its trust, then puts its policy", async () => {
    mocks.iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: "no", $metadata: {} }));
    mocks.iam.on(CreateRoleCommand).resolves({ Role: { Arn: arn, RoleName: names.buildRole, Path: "/bulkhead/build/", RoleId: "r", CreateDate: new Date() } });
    expect(await iamBuildRoles().ensure(request)).toEqual({ arn, created: true });
    expect(mocks.iam).toHaveReceivedCommandWith(CreateRoleCommand, {
      RoleName: names.buildRole,
      Path: "/bulkhead/build/",
      AssumeRolePolicyDocument: JSON.stringify(request.trustPolicy),
      Tags: [{ Key: "bulkhead:org", Value: "acme" }, { Key: "bulkhead:app", Value: names.app }],
    });
    expect(mocks.iam).toHaveReceivedCommandWith(PutRolePolicyCommand, {
      RoleName: names.buildRole, PolicyName: "bulkhead-build", PolicyDocument: JSON.stringify(request.policy),
    });
    expect(names.buildRole.length).toBeLessThanOrEqual(64);
  });

  it("re-applies trust and policy to the app's existing role", async () => {
    mocks.iam.on(GetRoleCommand).resolves({ Role: {
      Arn: arn, RoleName: names.buildRole, Path: "/bulkhead/build/", RoleId: "r", CreateDate: new Date(),
      Tags: [{ Key: "bulkhead:org", Value: "acme" }, { Key: "bulkhead:app", Value: names.app }],
    } });
    expect(await iamBuildRoles().ensure(request)).toEqual({ arn, created: false });
    expect(mocks.iam).toHaveReceivedCommandTimes(CreateRoleCommand, 0);
    expect(mocks.iam).toHaveReceivedCommandWith(UpdateAssumeRolePolicyCommand, { RoleName: names.buildRole, PolicyDocument: JSON.stringify(request.trustPolicy) });
    expect(mocks.iam).toHaveReceivedCommandTimes(PutRolePolicyCommand, 1);
  });

  it("adopts a role a concurrent build just created", async () => {
    mocks.iam.on(GetRoleCommand)
      .rejectsOnce(new NoSuchEntityException({ message: "no", $metadata: {} }))
      .resolves({ Role: { Arn: arn, RoleName: names.buildRole, Path: "/bulkhead/build/", RoleId: "r", CreateDate: new Date(),
        Tags: [{ Key: "bulkhead:org", Value: "acme" }, { Key: "bulkhead:app", Value: names.app }] } });
    mocks.iam.on(CreateRoleCommand).rejects(new EntityAlreadyExistsException({ message: "exists", $metadata: {} }));
    expect(await iamBuildRoles().ensure(request)).toEqual({ arn, created: false });
  });

  it("refuses a same-named role that is not this app's build role", async () => {
    mocks.iam.on(GetRoleCommand).resolves({ Role: { Arn: arn, RoleName: names.buildRole, Path: "/", RoleId: "r", CreateDate: new Date(), Tags: [] } });
    await expect(iamBuildRoles().ensure(request)).rejects.toThrow(/not this app's build role/);
    expect(mocks.iam).toHaveReceivedCommandTimes(PutRolePolicyCommand, 0);
  });

  it("the build role's policy reaches only the app's own prefix, repository and log group", () => {
    expect(arn).toBe(documents.arn);
    const other = deploymentAppNames({ org: "acme", appId: "b".repeat(26) });
    const text = JSON.stringify(request.policy);
    expect(text).not.toContain(other.app);
    const resources = request.policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Resource ?? []);
    for (const resource of resources) {
      const scoped = resource.includes(`acme/${names.app}`) || resource === "arn:aws:s3:::bulkhead-artifacts-prod" || resource === "*";
      expect(scoped, resource).toBe(true);
    }
    const wildcard = request.policy.Statement.filter((s) => s.Effect === "Allow" && s.Resource?.includes("*"));
    expect(wildcard.flatMap((s) => s.Action)).toEqual(["ecr:GetAuthorizationToken"]);
    expect(request.trustPolicy.Statement[0]!.Condition).toEqual({
      StringEquals: { "aws:SourceAccount": "123456789012" },
      ArnLike: { "aws:SourceArn": "arn:aws:codebuild:eu-west-1:123456789012:project/bulkhead-build" },
    });
  });
});

describe("CodeBuild environments", () => {
  it("stops only this deployment's builds that are still running", async () => {
    const env = (deployment: string) => ({ type: "LINUX_CONTAINER" as const, image: "i", computeType: "BUILD_GENERAL1_SMALL" as const,
      environmentVariables: [{ name: "BULKHEAD_DEPLOYMENT", value: deployment }] });
    mocks.codebuild.on(ListBuildsForProjectCommand).resolves({ ids: ["b:1", "b:2", "b:3"] });
    mocks.codebuild.on(BatchGetBuildsCommand).resolves({ builds: [
      { id: "b:1", buildStatus: "IN_PROGRESS", environment: env(DEPLOYMENT) },
      { id: "b:2", buildStatus: "SUCCEEDED", environment: env(DEPLOYMENT) },
      { id: "b:3", buildStatus: "IN_PROGRESS", environment: env("01OTHERDEPLOYMENT000000000") },
    ] });
    mocks.codebuild.on(StopBuildCommand).resolves({});
    expect(await codeBuildEnvironments().destroy({ projectName: "bulkhead-build", deploymentId: DEPLOYMENT })).toEqual({ destroyed: 1 });
    expect(mocks.codebuild).toHaveReceivedCommandWith(ListBuildsForProjectCommand, { projectName: "bulkhead-build", sortOrder: "DESCENDING" });
    expect(mocks.codebuild).toHaveReceivedCommandTimes(StopBuildCommand, 1);
    expect(mocks.codebuild).toHaveReceivedCommandWith(StopBuildCommand, { id: "b:1" });
  });
});

describe("CloudWatch build logs", () => {
  it("reads the tail of the deployment's stream", async () => {
    mocks.logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [{ logStreamName: `${DEPLOYMENT}/uuid` }] });
    mocks.logs.on(GetLogEventsCommand).resolves({ events: [{ message: "line 1\n" }, { message: "line 2\n" }] });
    expect(await cloudWatchBuildLogs().tail({ logGroup: names.buildLogGroup, streamPrefix: DEPLOYMENT }, 4096)).toEqual({ text: "line 1\nline 2\n", truncated: false });
    expect(mocks.logs).toHaveReceivedCommandWith(DescribeLogStreamsCommand, { logGroupName: `/bulkhead/acme/${names.app}/build`, logStreamNamePrefix: DEPLOYMENT });
    expect(mocks.logs).toHaveReceivedCommandWith(GetLogEventsCommand, { logStreamName: `${DEPLOYMENT}/uuid`, startFromHead: false });
  });

  it("keeps the last bytes, from a line start, and answers undefined for a missing group", async () => {
    mocks.logs.on(DescribeLogStreamsCommand).resolvesOnce({ logStreams: [{ logStreamName: "s" }] })
      .rejects(new ResourceNotFoundException({ message: "no", $metadata: {} }));
    mocks.logs.on(GetLogEventsCommand).resolves({ events: [{ message: "aaaa\n" }, { message: "bbbb\n" }, { message: "cccc\n" }] });
    expect(await cloudWatchBuildLogs().tail({ logGroup: "g", streamPrefix: "s" }, 8)).toEqual({ text: "cccc\n", truncated: true });
    expect(await cloudWatchBuildLogs().tail({ logGroup: "g", streamPrefix: "s" }, 8)).toBeUndefined();
  });
});

describe("S3 artifact reader", () => {
  const credentials = { accessKeyId: "ASIAREADERREADER0001", secretAccessKey: "secret", sessionToken: "token", expiration: new Date(Date.now() + 900_000) };
  const key = artifactKey(names, DEPLOYMENT);
  const request = { bucket: CONFIG.artifactBucket, key, accountId: CONFIG.accountId, region: CONFIG.region, credentials, maxBytes: 8 };
  const body = (bytes: Uint8Array) => Object.assign(Readable.from([Buffer.from(bytes)]), { transformToByteArray: async () => bytes });

  it("gets the object with the reader's session, from a bucket of the platform's own account", async () => {
    const zip = new Uint8Array([1, 2, 3, 4]);
    mocks.s3.on(GetObjectCommand).resolves({ Body: body(zip) as never, ContentLength: zip.length });
    const clients: { region: string; credentials: unknown }[] = [];
    const reader = s3Artifacts((region, creds) => {
      clients.push({ region, credentials: creds });
      return new S3Client({ region, credentials: creds });
    });
    expect(await reader.read(request)).toEqual({ size: 4, bytes: zip });
    expect(clients).toEqual([{ region: CONFIG.region, credentials }]);
    expect(mocks.s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: CONFIG.artifactBucket, Key: key, ExpectedBucketOwner: CONFIG.accountId });
  });

  it("does not read the body of an object over the limit, and says its size", async () => {
    const stream = body(new Uint8Array(9));
    mocks.s3.on(GetObjectCommand).resolves({ Body: stream as never, ContentLength: 60 * 1024 * 1024 });
    expect(await s3Artifacts().read(request)).toEqual({ size: 60 * 1024 * 1024 });
    expect(stream.destroyed).toBe(true);
  });
});

describe("Lambda alias target", () => {
  const sha256 = "ab".repeat(32);
  const artifact = { location: `arn:aws:s3:::${CONFIG.artifactBucket}/${artifactPath(names, DEPLOYMENT)}/artifact.zip`, sha256 };
  const credentials = { accessKeyId: "ASIAEXAMPLEEXAMPLE01", secretAccessKey: "secret", sessionToken: "token", expiration: new Date(Date.now() + 900_000) };

  const code = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]);
  it("uploads the code (ZipFile) with the assumed credentials, checks its SHA-256, then moves the alias", async () => {
    mocks.lambda.on(UpdateFunctionCodeCommand).resolves({ Version: "7", CodeSha256: Buffer.from(sha256, "hex").toString("base64") });
    mocks.lambda.on(UpdateAliasCommand).resolves({});
    const clients: { region: string; credentials: unknown }[] = [];
    const port = lambdaAliasTargets((region, creds) => {
      clients.push({ region, credentials: creds });
      return new LambdaClient({ region, credentials: creds });
    });
    const result = await port.apply({ target: TARGET, names, deploymentId: DEPLOYMENT, artifact, code, credentials });
    expect(result).toEqual({ releaseId: `bh-acme-${names.app}:7` });
    expect(clients).toEqual([{ region: "eu-west-1", credentials }]);
    expect(mocks.lambda).toHaveReceivedCommandWith(UpdateFunctionCodeCommand, {
      FunctionName: `bh-acme-${names.app}`, ZipFile: code, Publish: true,
    });
    const sent = mocks.lambda.commandCalls(UpdateFunctionCodeCommand)[0]!.args[0].input;
    expect(Object.keys(sent).sort()).toEqual(["FunctionName", "Publish", "ZipFile"]);
    expect(mocks.lambda).toHaveReceivedCommandWith(UpdateAliasCommand, { FunctionName: `bh-acme-${names.app}`, Name: "live", FunctionVersion: "7" });
  });

  it("refuses to move the alias when the published code is not the artifact", async () => {
    mocks.lambda.on(UpdateFunctionCodeCommand).resolves({ Version: "8", CodeSha256: Buffer.from("cd".repeat(32), "hex").toString("base64") });
    await expect(lambdaAliasTargets().apply({ target: TARGET, names, deploymentId: DEPLOYMENT, artifact, code, credentials }))
      .rejects.toMatchObject({ name: TASK_ERRORS.releaseMismatch });
    expect(mocks.lambda).toHaveReceivedCommandTimes(UpdateAliasCommand, 0);
  });

  it("an update in progress is transient", async () => {
    mocks.lambda.on(UpdateFunctionCodeCommand).rejects(serviceError("ResourceConflictException", 409));
    await expect(lambdaAliasTargets().apply({ target: TARGET, names, deploymentId: DEPLOYMENT, artifact, code, credentials }))
      .rejects.toMatchObject({ name: TASK_ERRORS.transient });
  });
});
