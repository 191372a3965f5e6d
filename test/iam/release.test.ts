import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deploymentAppNames, releaseSession, workflowBuildRole } from "../../packages/core/src/deployments/documents.ts";
import { artifactKey } from "../../packages/core/src/deployments/names.ts";
import type { ResolvedTarget } from "../../packages/core/src/deployments/ports.ts";
import { arn, awsLocation } from "../../packages/core/src/iam/arn.ts";
import { customerDeployRole, customerDeployRoleName, deployerRole, hostedDeployRole, hostedDeployRoleName } from "../../packages/core/src/iam/deploy.ts";
import type { PolicyDocument } from "../../packages/core/src/iam/document.ts";
import { platformNames, type AppNames, type AppScope } from "../../packages/core/src/iam/names.ts";
import { ACCOUNT, decide, OTHER_ACCOUNT, PROPERTY_RUNS, REGION, sessionArn, twoApps, type Decision } from "../support/iam.ts";

/**
 * The documents the deployment workflow applies (deployments/documents.ts), simulated: the build
 * role PrepareBuild ensures, and the release session ApplyRelease opens on a customer's or the
 * hosted deploy role. Each property runs over random org/app pairs, biased to prefix pairs.
 */
const platform = platformNames({ stage: "test", account: ACCOUNT, region: REGION });
const CONFIG = { region: REGION, accountId: ACCOUNT, artifactBucket: platform.artifactBucket, buildProject: platform.buildProject };
const platformLocation = awsLocation({ account: ACCOUNT, region: REGION });
const DEPLOYMENT = "01J9Z6W0C8M3Q9N6R2B7T4V5X1";
const namesOf = (scope: AppScope): AppNames => deploymentAppNames({ org: scope.org, appId: scope.app });

type Probe = { what: string; action: string; resource: string; context?: Record<string, string | string[]> };
const object = (key: string) => `arn:aws:s3:::${CONFIG.artifactBucket}/${key}`;

/** What a build of `scope` does: read its sources, write its artifact, push its image, write its log. */
function buildProbes(scope: AppScope): Probe[] {
  const n = namesOf(scope);
  const logGroup = arn.logGroup(platformLocation, n.buildLogGroup);
  return [
    { what: "read source", action: "s3:GetObject", resource: object(`${n.sourcePrefix}r1/package.json`) },
    { what: "list sources", action: "s3:ListBucket", resource: arn.bucket(platformLocation, CONFIG.artifactBucket), context: { "s3:prefix": `${n.sourcePrefix}r1/` } },
    { what: "write artifact", action: "s3:PutObject", resource: object(artifactKey(n, DEPLOYMENT)) },
    { what: "push image", action: "ecr:PutImage", resource: arn.repository(platformLocation, n.repository) },
    { what: "pull layer", action: "ecr:BatchGetImage", resource: arn.repository(platformLocation, n.repository) },
    { what: "create log group", action: "logs:CreateLogGroup", resource: logGroup },
    { what: "write log", action: "logs:PutLogEvents", resource: `${logGroup}:log-stream:${DEPLOYMENT}/b1` },
  ];
}

const verdict = (d: Decision) => (d === "Allowed" ? "Allowed" : "Denied");
async function verdicts(run: (p: Probe) => Promise<Decision>, probes: Probe[]): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(probes.map(async (p) => [`${p.what} ${p.resource}`, verdict(await run(p))])));
}
const every = (probes: Probe[], want: string) => Object.fromEntries(probes.map((p) => [`${p.what} ${p.resource}`, want]));

describe("the build role the workflow ensures", () => {
  it("is the IAM module's build role, on the build path, trusted by the platform's build project", () => {
    const role = workflowBuildRole(CONFIG, namesOf({ org: "acme", app: "web" }));
    expect(role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/bulkhead/build/${role.name}`);
    expect(JSON.stringify(role.trust)).toContain(arn.codeBuildProject(platformLocation, platform.buildProject));
  });

  it("touches its own app's sources, artifacts, repository and log group, and none of another app's", async () => {
    await fc.assert(
      fc.asyncProperty(twoApps, async ({ mine, theirs }) => {
        const role = workflowBuildRole(CONFIG, namesOf(mine));
        const run = (p: Probe) =>
          decide({ principal: sessionArn(role.name), action: p.action, resource: p.resource, context: p.context, identity: [role.policy] });
        expect(await verdicts(run, buildProbes(mine))).toEqual(every(buildProbes(mine), "Allowed"));
        expect(await verdicts(run, buildProbes(theirs))).toEqual(every(buildProbes(theirs), "Denied"));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });
});

/** What the release step does in the target, with the release session's credentials. */
function releaseProbes(target: ResolvedTarget, scope: AppScope): Probe[] {
  const n = namesOf(scope);
  const fn = arn.lambda(awsLocation({ account: target.accountId, region: target.region }), n.releaseFunction);
  return [
    { what: "update code", action: "lambda:UpdateFunctionCode", resource: fn },
    { what: "publish", action: "lambda:PublishVersion", resource: fn },
    { what: "move alias", action: "lambda:UpdateAlias", resource: `${fn}:${n.releaseAlias}` },
    { what: "read artifact", action: "s3:GetObject", resource: object(artifactKey(n, DEPLOYMENT)) },
  ];
}

/** The workflow's release session for `scope`: its session policy and, as principal tags, its session tags. */
function sessionOf(target: ResolvedTarget, scope: AppScope) {
  const n = namesOf(scope);
  const session = releaseSession({ target, names: n, deploymentId: DEPLOYMENT, artifact: { bucket: CONFIG.artifactBucket, key: artifactKey(n, DEPLOYMENT) } });
  return {
    policy: JSON.parse(session.policy) as PolicyDocument,
    tags: Object.fromEntries(session.tags.map((t) => [`aws:PrincipalTag/${t.key}`, t.value])),
  };
}

/**
 * Cross-account, S3 also needs the bucket's own policy to admit the target's role. The platform's
 * artifact bucket policy does not do that yet (see the report): this stands in for a per-target
 * grant, so these tests decide what the role and the session allow.
 */
const bucketAdmits = (roleArn: string): PolicyDocument => ({
  Version: "2012-10-17",
  Statement: [{ Sid: "TargetRole", Effect: "Allow", Principal: { AWS: roleArn }, Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${CONFIG.artifactBucket}/*`] }],
});

function inSession(target: ResolvedTarget, roleName: string, identity: PolicyDocument[], session: ReturnType<typeof sessionOf>) {
  const crossAccount = target.accountId !== ACCOUNT;
  return (p: Probe) =>
    decide({
      ...(crossAccount && p.action.startsWith("s3:") && { resourcePolicy: bucketAdmits(target.roleArn) }),
      principal: `arn:aws:sts::${target.accountId}:assumed-role/${roleName}/${DEPLOYMENT}`,
      action: p.action,
      resource: p.resource,
      // The artifact bucket is the platform's; the function is the target's.
      resourceAccount: p.action.startsWith("s3:") ? ACCOUNT : target.accountId,
      context: { ...session.tags, ...p.context },
      identity,
      sessionPolicy: session.policy,
    });
}

describe("a release session on a customer's deploy role (BYOI)", () => {
  const deployer = deployerRole({ location: platformLocation, platform });
  const byoi = (org: string): ResolvedTarget => ({
    id: "t1", kind: "byoi", roleArn: `arn:aws:iam::${OTHER_ACCOUNT}:role/${customerDeployRoleName(org)}`,
    externalId: "x".repeat(40), region: "eu-west-1", accountId: OTHER_ACCOUNT,
  });
  const customerRole = (scope: AppScope, target: ResolvedTarget) =>
    customerDeployRole({
      target: awsLocation({ account: target.accountId, region: target.region }),
      scope,
      deployerRoleArn: deployer.arn,
      externalId: target.externalId,
      artifactBucket: CONFIG.artifactBucket,
    });

  it("is admitted by the customer's trust policy with the workflow's session tags", async () => {
    const scope = { org: "acme", app: "web" };
    const target = byoi(scope.org);
    const role = customerRole(scope, target);
    const n = namesOf(scope);
    const tags = releaseSession({ target, names: n, deploymentId: DEPLOYMENT, artifact: { bucket: CONFIG.artifactBucket, key: artifactKey(n, DEPLOYMENT) } }).tags;
    const context = {
      "sts:ExternalId": target.externalId,
      ...Object.fromEntries(tags.map((t) => [`aws:RequestTag/${t.key}`, t.value])),
      "aws:TagKeys": tags.map((t) => t.key),
    };
    for (const action of ["sts:AssumeRole", "sts:TagSession"]) {
      expect(await decide({ principal: deployer.arn, action, resource: target.roleArn, resourceAccount: OTHER_ACCOUNT, context, identity: [deployer.policy], resourcePolicy: role.trust }), action).toBe("Allowed");
    }
  });

  it("with the customer's identity policy, releases its own app and refuses another app's, even one on the same role", async () => {
    await fc.assert(
      fc.asyncProperty(twoApps, async ({ mine, theirs }) => {
        const target = byoi(mine.org);
        // The org's role carries each of its apps' policies; another org's app is on another role, given here too.
        const identity = [customerRole(mine, target).policy, customerRole(theirs, target).policy];
        const run = inSession(target, customerDeployRoleName(mine.org), identity, sessionOf(target, mine));
        expect(await verdicts(run, releaseProbes(target, mine))).toEqual(every(releaseProbes(target, mine), "Allowed"));
        expect(await verdicts(run, releaseProbes(target, theirs))).toEqual(every(releaseProbes(target, theirs), "Denied"));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("cannot be widened by the role: another app's release is refused by the session policy alone", async () => {
    await fc.assert(
      fc.asyncProperty(twoApps, async ({ mine, theirs }) => {
        const target = byoi(mine.org);
        const everything: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "TooBroad", Effect: "Allow", Action: ["*"], Resource: ["*"] }] };
        const run = inSession(target, customerDeployRoleName(mine.org), [everything], sessionOf(target, mine));
        expect(await verdicts(run, releaseProbes(target, theirs))).toEqual(every(releaseProbes(target, theirs), "Denied"));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });
});

describe("a release session on the hosted deploy role", () => {
  const hosted = hostedDeployRole({
    location: platformLocation, platform, deployerRoleArn: arn.role(platformLocation, platform.deployerRole), externalId: "x".repeat(40), artifactBucket: CONFIG.artifactBucket,
  });
  const target: ResolvedTarget = { id: "hosted", kind: "hosted", roleArn: hosted.arn, externalId: "x".repeat(40), region: REGION, accountId: ACCOUNT };

  it("with the hosted role's tag-scoped policy, releases its own app and refuses another app's", async () => {
    expect(hosted.name).toBe(hostedDeployRoleName(platform.stage));
    await fc.assert(
      fc.asyncProperty(twoApps, async ({ mine, theirs }) => {
        const run = inSession(target, hosted.name, [hosted.policy], sessionOf(target, mine));
        expect(await verdicts(run, releaseProbes(target, mine))).toEqual(every(releaseProbes(target, mine), "Allowed"));
        expect(await verdicts(run, releaseProbes(target, theirs))).toEqual(every(releaseProbes(target, theirs), "Denied"));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("refuses another app's release on the role's tags alone, whatever the session policy", async () => {
    await fc.assert(
      fc.asyncProperty(twoApps, async ({ mine, theirs }) => {
        const { tags } = sessionOf(target, mine);
        const run = (p: Probe) =>
          decide({ principal: sessionArn(hosted.name, DEPLOYMENT), action: p.action, resource: p.resource, context: tags, identity: [hosted.policy] });
        expect(await verdicts(run, releaseProbes(target, theirs))).toEqual(every(releaseProbes(target, theirs), "Denied"));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });
});
