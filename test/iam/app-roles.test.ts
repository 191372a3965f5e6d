import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { appBuildRole, appRuntimeRole } from "../../packages/core/src/iam/app-roles.ts";
import { arn, awsLocation } from "../../packages/core/src/iam/arn.ts";
import { appNames, appScope, BUILD_ROLE_PATH, platformNames, type AppScope } from "../../packages/core/src/iam/names.ts";
import { ACCOUNT, decide, OTHER_ACCOUNT, PROPERTY_RUNS, REGION, sessionArn, twoApps, type Decision } from "../support/iam.ts";

const location = awsLocation({ account: ACCOUNT, region: REGION });
const platform = platformNames({ stage: "test", account: ACCOUNT, region: REGION });
const roleInput = (scope: AppScope) => ({ location, scope: appScope(scope), table: platform.table, artifactBucket: platform.artifactBucket });
const buildRoleInput = (scope: AppScope) => ({ location, scope: appScope(scope), artifactBucket: platform.artifactBucket, buildProject: platform.buildProject });

type Probe = { what: string; action: string; resource: string; context?: Record<string, string | string[]> };

/** Requests that touch `scope`'s own resources: the runtime's and the build's. */
function runtimeProbes(scope: AppScope): Probe[] {
  const n = appNames(scope);
  const table = arn.table(location, platform.table);
  return [
    { what: "KEK value", action: "secretsmanager:GetSecretValue", resource: `${arn.secret(location, n.credentialStoreSecret).slice(0, -6)}Ab12Cd` },
    { what: "artifact read", action: "s3:GetObject", resource: `arn:aws:s3:::${platform.artifactBucket}/${n.artifactPrefix}d1/bundle.zip` },
    { what: "artifact list", action: "s3:ListBucket", resource: arn.bucket(location, platform.artifactBucket), context: { "s3:prefix": `${n.artifactPrefix}d1/` } },
    { what: "log stream", action: "logs:CreateLogStream", resource: `${arn.logGroup(location, n.runtimeLogGroup)}:log-stream:s1` },
    { what: "log events", action: "logs:PutLogEvents", resource: `${arn.logGroup(location, n.runtimeLogGroup)}:log-stream:s1` },
    { what: "metrics", action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": n.metricsNamespace } },
    { what: "item", action: "dynamodb:GetItem", resource: table, context: { "dynamodb:LeadingKeys": [n.dataPartition] } },
    { what: "items below", action: "dynamodb:Query", resource: table, context: { "dynamodb:LeadingKeys": [`${n.dataPartition}#CRED`] } },
  ];
}

function buildProbes(scope: AppScope): Probe[] {
  const n = appNames(scope);
  return [
    { what: "source read", action: "s3:GetObject", resource: `arn:aws:s3:::${platform.artifactBucket}/${n.sourcePrefix}r1/index.js` },
    { what: "source list", action: "s3:ListBucket", resource: arn.bucket(location, platform.artifactBucket), context: { "s3:prefix": `${n.sourcePrefix}r1/` } },
    { what: "build log group", action: "logs:CreateLogGroup", resource: arn.logGroup(location, n.buildLogGroup) },
    { what: "artifact write", action: "s3:PutObject", resource: `arn:aws:s3:::${platform.artifactBucket}/${n.artifactPrefix}d1/bundle.zip` },
    { what: "image push", action: "ecr:PutImage", resource: arn.repository(location, n.repository) },
    { what: "layer upload", action: "ecr:UploadLayerPart", resource: arn.repository(location, n.repository) },
    { what: "build log", action: "logs:PutLogEvents", resource: `${arn.logGroup(location, n.buildLogGroup)}:log-stream:b1` },
  ];
}

async function decisions(role: string, policy: object, probes: Probe[]): Promise<Record<string, Decision>> {
  const out: Record<string, Decision> = {};
  for (const probe of probes) {
    out[`${probe.what} (${probe.action})`] = await decide({
      principal: sessionArn(role),
      action: probe.action,
      resource: probe.resource,
      context: probe.context,
      identity: [policy as never],
    });
  }
  return out;
}

/** Compares every probe at once, so a failure names each request that went the wrong way. */
function expectEvery(got: Record<string, Decision>, want: "Allowed" | "Denied") {
  const verdicts = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v === "Allowed" ? "Allowed" : "Denied"]));
  expect(verdicts).toEqual(Object.fromEntries(Object.keys(got).map((k) => [k, want])));
}

describe("an app's runtime role", () => {
  it("reaches its own KEK, artifacts, log group, namespace and partitions, and nothing of any other app or org", async () => {
    await fc.assert(
      fc.asyncProperty(twoApps, async ({ mine, theirs }) => {
        const role = appRuntimeRole(roleInput(mine));
        const own = await decisions(role.name, role.policy, runtimeProbes(mine));
        expectEvery(own, "Allowed");
        const other = await decisions(role.name, role.policy, [...runtimeProbes(theirs), ...buildProbes(theirs)]);
        expectEvery(other, "Denied");
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("cannot write its artifacts, push images, write the build log or change its own items", async () => {
    const scope = appScope({ org: "acme", app: "web" });
    const role = appRuntimeRole(roleInput(scope));
    const n = appNames(scope);
    const table = arn.table(location, platform.table);
    const got = await decisions(role.name, role.policy, [
      // Reading its own sources is reading its own artifact prefix, which the runtime may.
      ...buildProbes(scope).filter((p) => !p.what.startsWith("source")),
      { what: "item write", action: "dynamodb:PutItem", resource: table, context: { "dynamodb:LeadingKeys": [n.dataPartition] } },
    ]);
    expectEvery(got, "Denied");
  });

  it("is refused where the key or namespace is missing, and on Scan, and on look-alike names", async () => {
    const scope = appScope({ org: "acme", app: "web" });
    const role = appRuntimeRole(roleInput(scope));
    const n = appNames(scope);
    const table = arn.table(location, platform.table);
    const secret = arn.secret(location, n.credentialStoreSecret).slice(0, -"-??????".length);
    const got = await decisions(role.name, role.policy, [
      { what: "query without key", action: "dynamodb:Query", resource: table },
      { what: "partition of the org", action: "dynamodb:Query", resource: table, context: { "dynamodb:LeadingKeys": ["ORG#acme"] } },
      { what: "mixed keys", action: "dynamodb:BatchGetItem", resource: table, context: { "dynamodb:LeadingKeys": [n.dataPartition, "ORG#acme#APP#web2"] } },
      { what: "list without prefix", action: "s3:ListBucket", resource: arn.bucket(location, platform.artifactBucket) },
      { what: "metrics without namespace", action: "cloudwatch:PutMetricData", resource: "*" },
      { what: "longer secret suffix", action: "secretsmanager:GetSecretValue", resource: `${secret}-Ab12Cd3` },
      { what: "sibling secret", action: "secretsmanager:GetSecretValue", resource: `${secret}2-Ab12Cd` },
    ]);
    expectEvery(got, "Denied");
    const scan = await decide({ principal: sessionArn(role.name), action: "dynamodb:Scan", resource: table, identity: [role.policy] });
    expect(scan).toBe("ExplicitlyDenied");
  });
});

describe("an app's build role", () => {
  it("writes its own prefix, repository and build log, and nothing of any other app or org", async () => {
    await fc.assert(
      fc.asyncProperty(twoApps, async ({ mine, theirs }) => {
        const role = appBuildRole(buildRoleInput(mine));
        const own = await decisions(role.name, role.policy, buildProbes(mine));
        expectEvery(own, "Allowed");
        const other = await decisions(role.name, role.policy, [...buildProbes(theirs), ...runtimeProbes(theirs)]);
        expectEvery(other, "Denied");
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("cannot read its own KEK or write the runtime log", async () => {
    const scope = appScope({ org: "acme", app: "web" });
    const role = appBuildRole(buildRoleInput(scope));
    const got = await decisions(role.name, role.policy, runtimeProbes(scope).filter((p) => p.what === "KEK value" || p.what === "log events"));
    expectEvery(got, "Denied");
  });

  it("never rewrites or deletes its own sources", async () => {
    const scope = appScope({ org: "acme", app: "web" });
    const role = appBuildRole(buildRoleInput(scope));
    const source = `arn:aws:s3:::${platform.artifactBucket}/${appNames(scope).sourcePrefix}r1/index.js`;
    for (const action of ["s3:PutObject", "s3:DeleteObject"]) {
      expect(await decide({ principal: sessionArn(role.name), action, resource: source, identity: [role.policy] }), action).toBe("ExplicitlyDenied");
    }
  });

  it("lives under the build path, where the state machine may pass it", () => {
    const role = appBuildRole(buildRoleInput(appScope({ org: "acme", app: "web" })));
    expect(role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/bulkhead/build/${role.name}`);
    expect(role.arn.startsWith(arn.rolesUnder(location, BUILD_ROLE_PATH).slice(0, -1))).toBe(true);
  });

  it("is assumable by CodeBuild for the platform's build project only", async () => {
    const scope = appScope({ org: "acme", app: "web" });
    const role = appBuildRole(buildRoleInput(scope));
    const assume = (sourceArn: string, sourceAccount = ACCOUNT) =>
      decide({
        principal: "codebuild.amazonaws.com",
        action: "sts:AssumeRole",
        resource: arn.role(location, role.name),
        context: { "aws:SourceArn": sourceArn, "aws:SourceAccount": sourceAccount },
        resourcePolicy: role.trust,
      });
    expect(await assume(arn.codeBuildProject(location, platform.buildProject))).toBe("Allowed");
    expect(await assume(arn.codeBuildProject(location, `${platform.buildProject}2`))).not.toBe("Allowed");
    expect(await assume(arn.codeBuildProject(location, platformNames({ stage: "other", account: ACCOUNT, region: REGION }).buildProject))).not.toBe("Allowed");
    expect(await assume(arn.codeBuildProject(location, platform.buildProject), OTHER_ACCOUNT)).not.toBe("Allowed");
  });
});
