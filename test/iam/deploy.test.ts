import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arn, awsLocation } from "../../packages/core/src/iam/arn.ts";
import { customerDeployRole, customerDeployRoleName, deployerRole, hostedDeployRoleName, isCustomerDeployRole } from "../../packages/core/src/iam/deploy.ts";
import { parseRoleArn } from "../../packages/core/src/targets/aws-names.ts";
import { allowedActions, type PolicyDocument } from "../../packages/core/src/iam/document.ts";
import { appNames, appScope, platformNames, type AppScope } from "../../packages/core/src/iam/names.ts";
import { customerPolicy, PHASES, phaseSessionPolicy, type Phase } from "../../packages/core/src/iam/phases.ts";
import { ACCOUNT, decide, OTHER_ACCOUNT, orgSlug, PROPERTY_RUNS, REGION, twoApps, type Decision } from "../support/iam.ts";

const platformLocation = awsLocation({ account: ACCOUNT, region: REGION });
const platform = platformNames({ stage: "test", account: ACCOUNT, region: REGION });
const deployer = deployerRole({ location: platformLocation, platform });
const target = awsLocation({ account: OTHER_ACCOUNT, region: "eu-west-1" });
const externalId = fc.stringMatching(/^[A-Za-z0-9_-]{32,64}$/);

describe("the customer deploy role's trust policy", () => {
  const roleFor = (org: string, id: string) => customerDeployRole({ target, scope: appScope({ org, app: "web" }), deployerRoleArn: deployer.arn, externalId: id });
  const assume = (trust: PolicyDocument, context: Record<string, string | string[]>, principal = deployer.arn, action = "sts:AssumeRole") =>
    // Cross-account: the caller's identity policy and the target's trust must both allow.
    decide({ principal, action, resource: arn.role(target, customerDeployRoleName("acme")), resourceAccount: OTHER_ACCOUNT, context, identity: [deployer.policy], resourcePolicy: trust });
  /** An AssumeRole call carrying tags needs both actions: sts:AssumeRole and sts:TagSession. */
  const assumeTagged = async (trust: PolicyDocument, context: Record<string, string | string[]>, principal = deployer.arn) => {
    const assumed = await assume(trust, context, principal, "sts:AssumeRole");
    return assumed === "Allowed" ? assume(trust, context, principal, "sts:TagSession") : assumed;
  };
  const tags = (org: string, extra: Record<string, string> = {}): Record<string, string | string[]> => {
    const all = { org, app: "web", deployment: "d1", ...extra };
    return { ...Object.fromEntries(Object.entries(all).map(([k, v]) => [`aws:RequestTag/${k}`, v])), "aws:TagKeys": Object.keys(all) };
  };

  it("admits the platform deployer with the target's ExternalId and the org's tag", async () => {
    await fc.assert(
      fc.asyncProperty(orgSlug, externalId, async (org, id) => {
        const { trust } = roleFor(org, id);
        expect(await assumeTagged(trust!, { "sts:ExternalId": id, ...tags(org) })).toBe("Allowed");
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("refuses AssumeRole without the right ExternalId", async () => {
    await fc.assert(
      fc.asyncProperty(orgSlug, externalId, externalId, async (org, id, wrong) => {
        fc.pre(id !== wrong);
        const { trust } = roleFor(org, id);
        expect(await assume(trust!, { "sts:ExternalId": wrong, ...tags(org) })).not.toBe("Allowed");
        expect(await assume(trust!, tags(org))).not.toBe("Allowed");
        expect(await assume(trust!, { "sts:ExternalId": id.slice(0, -1), ...tags(org) })).not.toBe("Allowed");
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("refuses another org's sessions, other callers, missing or extra tags and pattern-like values", async () => {
    const id = "x".repeat(40);
    const { trust } = roleFor("acme", id);
    const withId = (context: Record<string, string | string[]>) => ({ "sts:ExternalId": id, ...context });
    expect(await assumeTagged(trust!, withId(tags("acme2")))).not.toBe("Allowed");
    expect(await assumeTagged(trust!, withId(tags("acme")), arn.role(platformLocation, "bulkhead-test-apps-create"))).not.toBe("Allowed");
    const { "aws:RequestTag/deployment": _, ...withoutDeployment } = tags("acme");
    expect(await assumeTagged(trust!, withId({ ...withoutDeployment, "aws:TagKeys": ["org", "app"] }))).not.toBe("Allowed");
    expect(await assumeTagged(trust!, withId(tags("acme", { admin: "true" })))).not.toBe("Allowed");
    expect(await assumeTagged(trust!, withId(tags("acme", { app: "*" })))).toBe("ExplicitlyDenied");
  });

  it("refuses ExternalIds shorter than 32 characters at generation time", () => {
    expect(() => roleFor("acme", "short")).toThrow(/ExternalId/);
  });
});

describe("the platform deployer role", () => {
  // A target that trusts the whole platform account, so only the deployer's own policy decides.
  const trustsPlatformAccount: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Sid: "PlatformAccount", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
  };
  const run = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
    decide({
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${deployer.name}/d1`,
      action,
      resource,
      resourceAccount: OTHER_ACCOUNT,
      context,
      identity: [deployer.policy],
      resourcePolicy: trustsPlatformAccount,
    });

  it("assumes org deploy roles in any account, tagging org, app and deployment, and nothing else", async () => {
    const deployRole = arn.role(target, customerDeployRoleName("acme"));
    const tagged = { "aws:RequestTag/org": "acme", "aws:RequestTag/app": "web", "aws:RequestTag/deployment": "d1", "aws:TagKeys": ["org", "app", "deployment"] };
    expect(await run("sts:AssumeRole", deployRole)).toBe("Allowed");
    expect(await run("sts:TagSession", deployRole, tagged)).toBe("Allowed");
    expect(await run("sts:TagSession", deployRole, { "aws:RequestTag/org": "acme", "aws:TagKeys": ["org"] })).toBe("ImplicitlyDenied");
    expect(await run("sts:AssumeRole", arn.role(target, "OrganizationAccountAccessRole"))).toBe("ImplicitlyDenied");
    expect(await run("sts:AssumeRole", arn.role(target, platform.tenantDataRole))).toBe("ImplicitlyDenied");
  });

  it("may assume every role the targets API admits (isCustomerDeployRole), and none of the off-convention roles it refuses", async () => {
    await fc.assert(
      fc.asyncProperty(orgSlug, async (org) => {
        const roleArn = `arn:aws:iam::${OTHER_ACCOUNT}:role/${customerDeployRoleName(org)}`;
        const role = parseRoleArn(roleArn)!;
        expect(isCustomerDeployRole(role)).toBe(true);
        expect(isCustomerDeployRole(role, org)).toBe(true);
        expect(await run("sts:AssumeRole", roleArn)).toBe("Allowed");
      }),
      { numRuns: PROPERTY_RUNS },
    );
    for (const name of ["deploy", "bulkhead-deploy", "bulkhead-deployer-acme", "ops/bulkhead-deploy-acme", "Bulkhead-Deploy-acme"]) {
      const roleArn = `arn:aws:iam::${OTHER_ACCOUNT}:role/${name}`;
      expect(isCustomerDeployRole(parseRoleArn(roleArn)!), name).toBe(false);
      expect(await run("sts:AssumeRole", roleArn), name).toBe("ImplicitlyDenied");
    }
    // The API is stricter still: the hosted target's name and names that are not org slugs.
    for (const name of [hostedDeployRoleName("production"), "bulkhead-deploy-ACME", "bulkhead-deploy-x/bulkhead-deploy-acme"]) {
      expect(isCustomerDeployRole(parseRoleArn(`arn:aws:iam::${OTHER_ACCOUNT}:role/${name}`)!), name).toBe(false);
    }
    expect(isCustomerDeployRole({ path: "/", name: customerDeployRoleName("acme") }, "acme2")).toBe(false);
  });
});

/** Requests each phase exists for, against `scope`'s resources in the target account. */
function phaseProbes(scope: AppScope): Record<Phase, { action: string; resource: string; context?: Record<string, string> }[]> {
  const n = appNames(scope);
  const fn = arn.lambda(target, `${n.functionPrefix}api`);
  const repo = arn.repository(target, n.repository);
  const secret = `${arn.secret(target, n.credentialStoreSecret).slice(0, -6)}Ab12Cd`;
  return {
    Observe: [
      { action: "logs:GetLogEvents", resource: `${arn.logGroup(target, n.runtimeLogGroup)}:log-stream:s1` },
      { action: "lambda:GetFunction", resource: fn },
      { action: "ecr:DescribeImages", resource: repo },
      { action: "secretsmanager:DescribeSecret", resource: secret },
      { action: "iam:GetRole", resource: arn.role(target, n.runtimeRole) },
    ],
    Install: [
      { action: "ecr:CreateRepository", resource: repo },
      { action: "logs:CreateLogGroup", resource: arn.logGroup(target, n.buildLogGroup) },
      { action: "lambda:CreateFunction", resource: fn },
    ],
    Deploy: [
      { action: "ecr:PutImage", resource: repo },
      { action: "lambda:UpdateFunctionCode", resource: fn },
      { action: "iam:PassRole", resource: arn.role(target, n.runtimeRole), context: { "iam:PassedToService": "lambda.amazonaws.com" } },
    ],
    Operate: [
      { action: "lambda:PutFunctionConcurrency", resource: fn },
      { action: "secretsmanager:RotateSecret", resource: secret },
      { action: "cloudwatch:PutMetricAlarm", resource: arn.alarm(target, `${n.alarmPrefix}errors`) },
    ],
  };
}

/** A session of the org's deploy role for `scope`, narrowed to `phase`, with `identity` on the role. */
const inSession = (scope: AppScope, phase: Phase, identity: PolicyDocument[]) =>
  async (probe: { action: string; resource: string; context?: Record<string, string> }): Promise<Decision> =>
    decide({
      principal: `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/${customerDeployRoleName(scope.org)}/d1`,
      action: probe.action,
      resource: probe.resource,
      resourceAccount: OTHER_ACCOUNT,
      context: { "aws:PrincipalTag/org": scope.org, "aws:PrincipalTag/app": scope.app, "aws:PrincipalTag/deployment": "d1", ...probe.context },
      identity,
      sessionPolicy: phaseSessionPolicy(phase, target),
    });

const verdicts = async (run: (p: { action: string; resource: string }) => Promise<Decision>, probes: { action: string; resource: string }[]) =>
  Object.fromEntries(await Promise.all(probes.map(async (p) => [`${p.action} ${p.resource}`, (await run(p)) === "Allowed" ? "Allowed" : "Denied"])));
const every = (probes: { action: string; resource: string }[], want: string) => Object.fromEntries(probes.map((p) => [`${p.action} ${p.resource}`, want]));

describe("grant phases", () => {
  it("allow each phase's own actions on the session's app, and nothing on another app or org", async () => {
    await fc.assert(
      fc.asyncProperty(twoApps, fc.constantFrom(...PHASES), async ({ mine, theirs }, phase) => {
        const identity = [customerPolicy({ target, scope: mine }), customerPolicy({ target, scope: theirs })];
        const run = inSession(mine, phase, identity);
        const own = phase === "Observe" ? phaseProbes(mine).Observe : [...phaseProbes(mine).Observe, ...phaseProbes(mine)[phase]];
        expect(await verdicts(run, own)).toEqual(every(own, "Allowed"));
        const other = PHASES.flatMap((p) => phaseProbes(theirs)[p]);
        expect(await verdicts(run, other)).toEqual(every(other, "Denied"));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("keep each elevation to its phase: Observe writes nothing, and no phase reads a secret value", async () => {
    const scope = appScope({ org: "acme", app: "web" });
    const identity = [customerPolicy({ target, scope })];
    const probes = phaseProbes(scope);
    for (const phase of PHASES) {
      const run = inSession(scope, phase, identity);
      const granted = new Set(allowedActions(phaseSessionPolicy(phase, target)));
      const foreign = PHASES.flatMap((p) => probes[p]).filter((probe) => !granted.has(probe.action));
      expect(foreign.length, phase).toBeGreaterThanOrEqual(phase === "Observe" ? 9 : 5);
      expect(await verdicts(run, foreign), phase).toEqual(every(foreign, "Denied"));
      const value = { action: "secretsmanager:GetSecretValue", resource: probes.Operate[1]!.resource };
      expect(await run(value), phase).not.toBe("Allowed");
    }
  });

  it("deny data-store deletion and IAM changes outside bulkhead-* even when the role allows everything", async () => {
    const scope = appScope({ org: "acme", app: "web" });
    const everything: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "TooBroad", Effect: "Allow", Action: ["*"], Resource: ["*"] }] };
    const destructive = [
      { action: "dynamodb:DeleteTable", resource: `arn:aws:dynamodb:eu-west-1:${OTHER_ACCOUNT}:table/orders` },
      { action: "s3:DeleteBucket", resource: "arn:aws:s3:::customer-data" },
      { action: "rds:DeleteDBCluster", resource: `arn:aws:rds:eu-west-1:${OTHER_ACCOUNT}:cluster:main` },
      { action: "secretsmanager:DeleteSecret", resource: `arn:aws:secretsmanager:eu-west-1:${OTHER_ACCOUNT}:secret:bulkhead/acme/web/kek-Ab12Cd` },
      { action: "iam:CreateUser", resource: `arn:aws:iam::${OTHER_ACCOUNT}:user/backdoor` },
      { action: "iam:AttachRolePolicy", resource: `arn:aws:iam::${OTHER_ACCOUNT}:role/Admin` },
      { action: "iam:PutRolePolicy", resource: `arn:aws:iam::${OTHER_ACCOUNT}:role/Admin` },
      { action: "iam:PassRole", resource: `arn:aws:iam::${OTHER_ACCOUNT}:role/Admin` },
    ];
    for (const phase of PHASES) {
      const run = inSession(scope, phase, [everything]);
      for (const probe of destructive) expect(await run(probe), `${phase} ${probe.action}`).toBe("ExplicitlyDenied");
      // Outside the platform's namespace nothing is reachable, however broad the role.
      expect(await run({ action: "lambda:GetFunction", resource: `arn:aws:lambda:eu-west-1:${OTHER_ACCOUNT}:function:payments` }), phase).toBe("ImplicitlyDenied");
    }
  });
});
