import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { artifactReadSession, deploymentAppNames, releaseSession, workflowBuildRole } from "../../packages/core/src/deployments/documents.ts";
import type { ResolvedTarget } from "../../packages/core/src/deployments/ports.ts";
import { arn, awsLocation } from "../../packages/core/src/iam/arn.ts";
import { artifactReaderRole } from "../../packages/core/src/iam/artifact-reader.ts";
import { customerDeployRole, customerDeployRoleName, deployerRole, hostedDeployRole, hostedDeployRoleName } from "../../packages/core/src/iam/deploy.ts";
import type { PolicyDocument } from "../../packages/core/src/iam/document.ts";
import { artifactKey, platformNames, type AppNames, type AppScope } from "../../packages/core/src/iam/names.ts";
import { ACCOUNT, decide, OTHER_ACCOUNT, PROPERTY_RUNS, REGION, sessionArn, twoApps, type Decision } from "../support/iam.ts";

/**
 * The documents the deployment workflow applies (deployments/documents.ts), simulated: the build
 * role PrepareBuild ensures, the artifact reader session ApplyRelease reads the release with, and
 * the release session it opens on a customer's or the hosted deploy role, which uploads the code
 * and needs nothing of the platform's bucket. Each property runs over random org/app pairs,
 * biased to prefix pairs.
 */
const platform = platformNames({ stage: "test", account: ACCOUNT, region: REGION });
const CONFIG = { region: REGION, accountId: ACCOUNT, artifactBucket: platform.artifactBucket, buildProject: platform.buildProject };
const platformLocation = awsLocation({ account: ACCOUNT, region: REGION });
const DEPLOYMENT = "01J9Z6W0C8M3Q9N6R2B7T4V5X1";
const OTHER_DEPLOYMENT = "01J9Z6W0C8M3Q9N6R2B7T4V5X2";
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

/** What the release step does in the target, with the release session's credentials: the code travels in the request. */
function releaseProbes(target: ResolvedTarget, scope: AppScope): Probe[] {
  const n = namesOf(scope);
  const fn = arn.lambda(awsLocation({ account: target.accountId, region: target.region }), n.releaseFunction);
  return [
    { what: "update code", action: "lambda:UpdateFunctionCode", resource: fn },
    { what: "publish", action: "lambda:PublishVersion", resource: fn },
    { what: "move alias", action: "lambda:UpdateAlias", resource: `${fn}:${n.releaseAlias}` },
  ];
}

/** What a deploy session must never reach of the platform: its bucket, the app's own artifact and sources included. */
function platformBucketProbes(scope: AppScope): Probe[] {
  const n = namesOf(scope);
  return [
    { what: "read own artifact", action: "s3:GetObject", resource: object(artifactKey(n, DEPLOYMENT)) },
    { what: "read another deployment's artifact", action: "s3:GetObject", resource: object(artifactKey(n, OTHER_DEPLOYMENT)) },
    { what: "read own source", action: "s3:GetObject", resource: object(`${n.sourcePrefix}r1/package.json`) },
    { what: "write own artifact", action: "s3:PutObject", resource: object(artifactKey(n, DEPLOYMENT)) },
    { what: "list bucket", action: "s3:ListBucket", resource: arn.bucket(platformLocation, CONFIG.artifactBucket), context: { "s3:prefix": n.artifactPrefix } },
  ];
}

/** The workflow's release session for `scope`: its session policy and, as principal tags, its session tags. */
function sessionOf(target: ResolvedTarget, scope: AppScope) {
  const session = releaseSession({ target, names: namesOf(scope), deploymentId: DEPLOYMENT });
  return {
    policy: JSON.parse(session.policy) as PolicyDocument,
    tags: Object.fromEntries(session.tags.map((t) => [`aws:PrincipalTag/${t.key}`, t.value])),
  };
}

/**
 * A request in the release session. `bucketView`: "as owned": S3 requests are evaluated as if the
 * bucket were in the target's account, so the role and the session policy alone decide (no bucket
 * policy needed); "cross-account": the bucket is the platform's, and its policy admits no target.
 */
function inSession(target: ResolvedTarget, roleName: string, identity: PolicyDocument[], session: ReturnType<typeof sessionOf>, bucketView: "as owned" | "cross-account" = "as owned") {
  return (p: Probe) =>
    decide({
      principal: `arn:aws:sts::${target.accountId}:assumed-role/${roleName}/${DEPLOYMENT}`,
      action: p.action,
      resource: p.resource,
      resourceAccount: p.action.startsWith("s3:") && bucketView === "cross-account" ? ACCOUNT : target.accountId,
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
    });

  it("is admitted by the customer's trust policy with the workflow's session tags", async () => {
    const scope = { org: "acme", app: "web" };
    const target = byoi(scope.org);
    const role = customerRole(scope, target);
    const tags = releaseSession({ target, names: namesOf(scope), deploymentId: DEPLOYMENT }).tags;
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

  it("needs no grant on the platform's bucket, and none of the customer's documents gives one", async () => {
    await fc.assert(
      fc.asyncProperty(twoApps, async ({ mine, theirs }) => {
        const target = byoi(mine.org);
        const identity = [customerRole(mine, target).policy, customerRole(theirs, target).policy];
        const session = sessionOf(target, mine);
        const probes = [...platformBucketProbes(mine), ...platformBucketProbes(theirs)];
        // Even judged by the role and the session alone (as if the bucket admitted anyone), nothing of it is reachable…
        expect(await verdicts(inSession(target, customerDeployRoleName(mine.org), identity, session), probes)).toEqual(every(probes, "Denied"));
        // …and as it really is, a bucket in the platform's account whose policy names no target.
        expect(await verdicts(inSession(target, customerDeployRoleName(mine.org), identity, session, "cross-account"), probes)).toEqual(every(probes, "Denied"));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("cannot be widened by the role: another app's release and the platform's bucket are refused by the session policy alone", async () => {
    await fc.assert(
      fc.asyncProperty(twoApps, async ({ mine, theirs }) => {
        const target = byoi(mine.org);
        const everything: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "TooBroad", Effect: "Allow", Action: ["*"], Resource: ["*"] }] };
        const run = inSession(target, customerDeployRoleName(mine.org), [everything], sessionOf(target, mine));
        const probes = [...releaseProbes(target, theirs), ...platformBucketProbes(mine)];
        expect(await verdicts(run, probes)).toEqual(every(probes, "Denied"));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });
});

describe("the platform's artifact reader (what the apply task reads a release with)", () => {
  const reader = artifactReaderRole({ location: platformLocation, platform });
  const deployer = deployerRole({ location: platformLocation, platform });
  const deploymentId = fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/);

  /** A reader session for `scope`'s deployment `id`, as ApplyRelease opens it (deployments/documents.ts). */
  function readerSession(scope: AppScope, id: string, sessionPolicy?: PolicyDocument) {
    const n = namesOf(scope);
    const session = artifactReadSession({ config: CONFIG, names: n, deploymentId: id, artifact: { bucket: CONFIG.artifactBucket, key: artifactKey(n, id) } });
    const tags = Object.fromEntries(session.tags.map((t) => [`aws:PrincipalTag/${t.key}`, t.value]));
    return (p: Probe) =>
      decide({
        principal: sessionArn(reader.name, id),
        action: p.action,
        resource: p.resource,
        context: { ...tags, ...p.context },
        identity: [reader.policy],
        sessionPolicy: sessionPolicy ?? (JSON.parse(session.policy) as PolicyDocument),
      });
  }
  const ownArtifact = (scope: AppScope, id: string): Probe[] => [{ what: "read artifact", action: "s3:GetObject", resource: object(artifactKey(namesOf(scope), id)) }];
  /** Everything else of the bucket: another deployment's artifact of the same app, the app's sources, writes, listing. */
  const everythingElse = (scope: AppScope, id: string, otherId: string): Probe[] => {
    const n = namesOf(scope);
    return [
      { what: "another deployment's artifact", action: "s3:GetObject", resource: object(artifactKey(n, otherId)) },
      { what: "another object of the deployment", action: "s3:GetObject", resource: object(`${n.artifactPrefix}${id}/other.zip`) },
      { what: "source", action: "s3:GetObject", resource: object(`${n.sourcePrefix}r1/package.json`) },
      { what: "write", action: "s3:PutObject", resource: object(artifactKey(n, id)) },
      { what: "list", action: "s3:ListBucket", resource: arn.bucket(platformLocation, CONFIG.artifactBucket), context: { "s3:prefix": n.artifactPrefix } },
    ];
  };

  it("reads its own deployment's artifact, and nothing else of that app or of any other", async () => {
    await fc.assert(
      fc.asyncProperty(twoApps, deploymentId, deploymentId, async ({ mine, theirs }, id, otherId) => {
        fc.pre(id !== otherId);
        const run = readerSession(mine, id);
        expect(await verdicts(run, ownArtifact(mine, id))).toEqual(every(ownArtifact(mine, id), "Allowed"));
        const refused = [...everythingElse(mine, id, otherId), ...ownArtifact(theirs, id), ...everythingElse(theirs, id, otherId)];
        expect(await verdicts(run, refused)).toEqual(every(refused, "Denied"));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("is bounded by the role's tags, whatever the session policy", async () => {
    const everything: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "TooBroad", Effect: "Allow", Action: ["*"], Resource: ["*"] }] };
    await fc.assert(
      fc.asyncProperty(twoApps, deploymentId, deploymentId, async ({ mine, theirs }, id, otherId) => {
        fc.pre(id !== otherId);
        const refused = [...everythingElse(mine, id, otherId), ...ownArtifact(theirs, id)];
        expect(await verdicts(readerSession(mine, id, everything), refused)).toEqual(every(refused, "Denied"));
      }),
      { numRuns: PROPERTY_RUNS },
    );
    // An untagged session reaches nothing.
    const untagged = await decide({ principal: sessionArn(reader.name), action: "s3:GetObject", resource: object(artifactKey(namesOf({ org: "acme", app: "web" }), DEPLOYMENT)), identity: [reader.policy] });
    expect(untagged).toBe("ImplicitlyDenied");
  });

  it("is assumed by the platform deployer alone, with exactly the deployment's tags and no pattern in them", async () => {
    const tagged = (tags: Record<string, string>) => ({
      ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
      "aws:TagKeys": Object.keys(tags),
    });
    const ask = (principal: string, action: string, context: Record<string, string | string[]> = {}, identity = [deployer.policy]) =>
      decide({ principal, action, resource: reader.arn, context, identity, resourcePolicy: reader.trust });
    const tags = { org: "acme", app: "web", deployment: DEPLOYMENT };
    expect(await ask(deployer.arn, "sts:AssumeRole")).toBe("Allowed");
    expect(await ask(deployer.arn, "sts:TagSession", tagged(tags))).toBe("Allowed");
    expect(await ask(deployer.arn, "sts:TagSession", tagged({ ...tags, admin: "1" }))).not.toBe("Allowed");
    expect(await ask(deployer.arn, "sts:TagSession", tagged({ org: "acme", app: "web" }))).not.toBe("Allowed");
    for (const value of ["*", "we?b", "${aws:username}"]) {
      expect(await ask(deployer.arn, "sts:TagSession", tagged({ ...tags, app: value })), value).not.toBe("Allowed");
    }
    const others = [
      arn.role(platformLocation, platform.taskRole("builds.prepare")),
      arn.role(platformLocation, platform.tenantDataRole),
      `arn:aws:iam::${OTHER_ACCOUNT}:role/${customerDeployRoleName("acme")}`,
    ];
    const anything: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "Any", Effect: "Allow", Action: ["sts:AssumeRole"], Resource: ["*"] }] };
    for (const principal of others) expect(await ask(principal, "sts:AssumeRole", {}, [anything]), principal).not.toBe("Allowed");
  });
});

describe("a release session on the hosted deploy role", () => {
  const hosted = hostedDeployRole({
    location: platformLocation, platform, deployerRoleArn: arn.role(platformLocation, platform.deployerRole), externalId: "x".repeat(40),
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
