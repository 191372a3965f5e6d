import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keys } from "../../packages/core/src/data/keys.ts";
import { TABLE_INDEXES, TABLE_SCHEMA } from "../../packages/core/src/data/table-schema.ts";
import { arn, awsLocation } from "../../packages/core/src/iam/arn.ts";
import { DEPLOYMENT_SWEEP_JOB, deploymentSweepJobRole, KEK_ROTATION_JOB, kekRotationJobRole } from "../../packages/core/src/iam/jobs.ts";
import { platformNames } from "../../packages/core/src/iam/names.ts";
import { functionAccess, functionRole } from "../../packages/core/src/iam/platform.ts";
import { tenantDataRole } from "../../packages/core/src/iam/tenant-data.ts";
import { routes } from "../../packages/core/src/routes/index.ts";
import { ACCOUNT, decide, orgSlug, PROPERTY_RUNS, REGION, sessionArn } from "../support/iam.ts";

const location = awsLocation({ account: ACCOUNT, region: REGION });
const platform = platformNames({ stage: "test", account: ACCOUNT, region: REGION });
const table = arn.table(location, platform.table);
const callers = routes.filter((r) => functionAccess(r).tenantData).map((r) => arn.role(location, platform.functionRole(r.id)));
const job = kekRotationJobRole({ location, platform });
const sweep = deploymentSweepJobRole({ location, platform });
const role = tenantDataRole({ location, platform, callerRoleArns: [...callers, job.arn, sweep.arn] });
const rotationIndex = TABLE_SCHEMA.indexes.kekRotation;
const rotationIndexArn = `${table}/index/${rotationIndex.name}`;

/** A request made with credentials of the tenant data role assumed with `org` as session tag (or none). */
const asTenant = (org: string | undefined, action: string, keys?: string[]) =>
  decide({
    principal: sessionArn(role.name),
    action,
    resource: table,
    context: {
      ...(org === undefined ? {} : { "aws:PrincipalTag/org": org }),
      ...(keys === undefined ? {} : { "dynamodb:LeadingKeys": keys }),
    },
    identity: [role.policy],
  });

/** An org slug and another that starts with it: the prefix trap. */
const prefixPair = fc.tuple(orgSlug, fc.constantFrom("2", "-b", "0x")).map(([org, suffix]) => ({ org, longer: `${org}${suffix}`.slice(0, 32) }))
  .filter(({ org, longer }) => org !== longer);

describe("the tenant data role", () => {
  it("reaches the session org's partitions, exact or below, for reads and writes", async () => {
    await fc.assert(
      fc.asyncProperty(orgSlug, async (org) => {
        for (const action of ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]) {
          expect(await asTenant(org, action, [`ORG#${org}`])).toBe("Allowed");
          expect(await asTenant(org, action, [`ORG#${org}#APP#a1`, `ORG#${org}#AUDIT`])).toBe("Allowed");
        }
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("refuses an org whose slug extends the session org's, and the other way round", async () => {
    await fc.assert(
      fc.asyncProperty(prefixPair, async ({ org, longer }) => {
        expect(await asTenant(org, "dynamodb:GetItem", [`ORG#${longer}`])).toBe("ImplicitlyDenied");
        expect(await asTenant(org, "dynamodb:Query", [`ORG#${longer}#APP#a1`])).toBe("ImplicitlyDenied");
        expect(await asTenant(longer, "dynamodb:GetItem", [`ORG#${org}`])).toBe("ImplicitlyDenied");
        expect(await asTenant(org, "dynamodb:BatchGetItem", [`ORG#${org}`, `ORG#${longer}`])).toBe("ImplicitlyDenied");
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("refuses any other org, the registry, and requests without a partition key or without a session tag", async () => {
    await fc.assert(
      fc.asyncProperty(orgSlug, orgSlug, async (org, other) => {
        fc.pre(org !== other);
        expect(await asTenant(org, "dynamodb:PutItem", [`ORG#${other}`])).toBe("ImplicitlyDenied");
        expect(await asTenant(org, "dynamodb:GetItem", [`REGISTRY#ORG#${org}`])).toBe("ImplicitlyDenied");
        expect(await asTenant(org, "dynamodb:Query")).toBe("ImplicitlyDenied");
        expect(await asTenant(undefined, "dynamodb:GetItem", [`ORG#${org}`])).toBe("ImplicitlyDenied");
        expect(await asTenant(undefined, "dynamodb:GetItem", ["ORG#"])).toBe("ImplicitlyDenied");
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("admits every key of an app's lifecycle and listings, listing heads included, for its own org only", async () => {
    await fc.assert(
      fc.asyncProperty(prefixPair, async ({ org, longer }) => {
        const app = "abcdefghijklmnopqrstuvwxyz";
        const partitions = (owner: string) => [
          keys.app(owner, app), ...keys.appListingHeads(owner, app), keys.credential(owner, app, { kind: "system" }, "db"),
          keys.deployment(owner, app, "01J0000000000000000000000A"), keys.auditCheckpoint(owner, 1), keys.auditEntry(owner, 1),
        ].map((key) => key.PK);
        for (const action of ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]) {
          for (const pk of partitions(org)) {
            expect(await asTenant(org, action, [pk]), `${action} ${pk}`).toBe("Allowed");
            expect(await asTenant(longer, action, [pk]), `${action} ${pk} as ${longer}`).toBe("ImplicitlyDenied");
          }
          for (const pk of partitions(longer)) expect(await asTenant(org, action, [pk]), `${action} ${pk} as ${org}`).toBe("ImplicitlyDenied");
        }
      }),
      { numRuns: 5 },
    );
  });

  it("denies Scan explicitly, with or without a key", async () => {
    expect(await asTenant("acme", "dynamodb:Scan")).toBe("ExplicitlyDenied");
    expect(await asTenant("acme", "dynamodb:Scan", ["ORG#acme"])).toBe("ExplicitlyDenied");
  });

  it("denies any Query on the platform indexes (KEK rotation, active deployments), which list every org's items, whatever the key", async () => {
    expect(TABLE_INDEXES.map((index) => index.name)).toEqual(["kek-rotation", "active-deployments"]);
    for (const index of TABLE_INDEXES) {
      const indexArn = arn.tableIndex(location, platform.table, index.name);
      const onIndex = (org: string | undefined, keys?: string[]) =>
        decide({
          principal: sessionArn(role.name),
          action: "dynamodb:Query",
          resource: indexArn,
          context: { ...(org === undefined ? {} : { "aws:PrincipalTag/org": org }), ...(keys === undefined ? {} : { "dynamodb:LeadingKeys": keys }) },
          identity: [role.policy],
        });
      await fc.assert(
        fc.asyncProperty(orgSlug, async (org) => {
          expect(await onIndex(org, [index.partitionValue])).toBe("ExplicitlyDenied");
          // Even a key that would pass the item statement's condition.
          expect(await onIndex(org, [`ORG#${org}`])).toBe("ExplicitlyDenied");
          expect(await onIndex(org)).toBe("ExplicitlyDenied");
        }),
        { numRuns: PROPERTY_RUNS },
      );
      expect(await onIndex(undefined, [index.partitionValue])).toBe("ExplicitlyDenied");
    }
    // The deny names those indexes; the role's own statement reaches the table, not any index.
    expect(role.policy.Statement.find((s) => s.Sid === "DenyPlatformIndexes")).toMatchObject({
      Effect: "Deny", Action: ["dynamodb:Query"], Resource: TABLE_INDEXES.map((index) => arn.tableIndex(location, platform.table, index.name)),
    });
  });

  describe("KEK secrets (key-stores/secrets-manager-key-store.ts)", () => {
    const kek = (org: string, app = "abcdefghijklmnopqrstuvwxyz") =>
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bulkhead/${org}/${app}/kek-Ab12Cd`;
    const asTenantOn = (org: string | undefined, action: string, resource: string, context: Record<string, string | string[]> = {}) =>
      decide({
        principal: sessionArn(role.name),
        action,
        resource,
        context: { ...(org === undefined ? {} : { "aws:PrincipalTag/org": org }), ...context },
        identity: [role.policy],
      });
    const createTags = (tags: Record<string, string>) => ({
      ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
      "aws:TagKeys": Object.keys(tags),
    });

    it("reads, rotates and destroys its own org's KEKs and no other org's, prefix orgs included", async () => {
      for (const action of [
        "secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
        "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
      ]) {
        expect(await asTenantOn("acme", action, kek("acme")), action).toBe("Allowed");
        expect(await asTenantOn("acme", action, kek("acme2")), action).toBe("ImplicitlyDenied");
        expect(await asTenantOn("acme", action, kek("globex")), action).toBe("ImplicitlyDenied");
        expect(await asTenantOn("acme2", action, kek("acme")), action).toBe("ImplicitlyDenied");
        expect(await asTenantOn(undefined, action, kek("acme")), action).toBe("ImplicitlyDenied");
      }
      await fc.assert(
        fc.asyncProperty(prefixPair, async ({ org, longer }) => {
          expect(await asTenantOn(org, "secretsmanager:GetSecretValue", kek(org))).toBe("Allowed");
          expect(await asTenantOn(org, "secretsmanager:GetSecretValue", kek(longer))).toBe("ImplicitlyDenied");
          expect(await asTenantOn(longer, "secretsmanager:DeleteSecret", kek(org))).toBe("ImplicitlyDenied");
        }),
        { numRuns: PROPERTY_RUNS },
      );
    });

    it("creates a KEK only in its own org's path, tagged with its own org and the app", async () => {
      for (const action of ["secretsmanager:CreateSecret", "secretsmanager:TagResource"]) {
        expect(await asTenantOn("acme", action, kek("acme"), createTags({ org: "acme", app: "web" })), action).toBe("Allowed");
        expect(await asTenantOn("acme", action, kek("acme2"), createTags({ org: "acme", app: "web" })), action).toBe("ImplicitlyDenied");
        expect(await asTenantOn("acme", action, kek("globex"), createTags({ org: "acme", app: "web" })), action).toBe("ImplicitlyDenied");
        // Its own path, but tagged as another org's secret, untagged, or with extra tags.
        expect(await asTenantOn("acme", action, kek("acme"), createTags({ org: "globex", app: "web" })), action).toBe("ImplicitlyDenied");
        expect(await asTenantOn("acme", action, kek("acme"), createTags({ org: "acme2", app: "web" })), action).toBe("ImplicitlyDenied");
        expect(await asTenantOn("acme", action, kek("acme"), {}), action).toBe("ImplicitlyDenied");
        expect(await asTenantOn("acme", action, kek("acme"), createTags({ org: "acme", app: "web", owner: "x" })), action).toBe("ImplicitlyDenied");
      }
    });

    it("reaches no other secret and no other Secrets Manager action", async () => {
      const other = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:platform/cursor-key-Ab12Cd`;
      expect(await asTenantOn("acme", "secretsmanager:GetSecretValue", other)).toBe("ImplicitlyDenied");
      expect(await asTenantOn("acme", "secretsmanager:RestoreSecret", kek("acme"))).toBe("ImplicitlyDenied");
      expect(await asTenantOn("acme", "secretsmanager:RotateSecret", kek("acme"))).toBe("ImplicitlyDenied");
      expect(await asTenantOn("acme", "secretsmanager:PutResourcePolicy", kek("acme"))).toBe("ImplicitlyDenied");
      expect(await asTenantOn("acme", "secretsmanager:UntagResource", kek("acme"), { "aws:TagKeys": ["org"] })).toBe("ImplicitlyDenied");
    });
  });

  describe("trust", () => {
    const assume = (principal: string, action: string, tags: Record<string, string>) =>
      decide({
        principal,
        action,
        resource: role.arn,
        context: { ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), "aws:TagKeys": Object.keys(tags) },
        resourcePolicy: role.trust,
      });
    const caller = callers[0]!;

    /** An AssumeRole call carrying tags needs both actions: sts:AssumeRole and sts:TagSession. */
    const assumeTagged = async (principal: string, tags: Record<string, string>) => {
      const [assumed, tagged] = [await assume(principal, "sts:AssumeRole", tags), await assume(principal, "sts:TagSession", tags)];
      return assumed === "Allowed" ? tagged : assumed;
    };

    it("admits org-scoped functions, the KEK-rotation job and the deployment sweep that tag the session with an org, and only them", async () => {
      expect(await assumeTagged(caller, { org: "acme" })).toBe("Allowed");
      for (const scheduled of [job, sweep]) {
        expect(await assumeTagged(scheduled.arn, { org: "acme" }), scheduled.name).toBe("Allowed");
        expect(await assumeTagged(scheduled.arn, { org: "acme", app: "web" }), scheduled.name).not.toBe("Allowed");
      }
      const platformRoute = routes.find((r) => r.host === "platform")!;
      expect(await assumeTagged(arn.role(location, platform.functionRole(platformRoute.id)), { org: "acme" })).not.toBe("Allowed");
      expect(await assumeTagged(arn.role(location, "someone-else"), { org: "acme" })).not.toBe("Allowed");
    });

    it("refuses extra tags and tag values that are patterns; an untagged session reaches nothing", async () => {
      expect(await assumeTagged(caller, { org: "acme", app: "web" })).not.toBe("Allowed");
      expect(await assumeTagged(caller, { team: "acme" })).not.toBe("Allowed");
      for (const value of ["*", "ac*", "a?c", "acme#APP", "${aws:username}"]) {
        expect(await assumeTagged(caller, { org: value }), value).toBe("ExplicitlyDenied");
      }
      // Without tags AssumeRole alone is enough, and the session matches no item (see above).
      expect(await assume(caller, "sts:AssumeRole", {})).toBe("Allowed");
      expect(await asTenant(undefined, "dynamodb:Query", ["ORG#acme"])).toBe("ImplicitlyDenied");
    });
  });
});

describe("route function roles", () => {
  const tenantCalls = async (routeId: string) => {
    const route = routes.find((r) => r.id === routeId)!;
    const fn = functionRole({ location, platform, routeId, access: functionAccess(route) });
    const run = (action: string, resource: string, context: Record<string, string | string[]>) =>
      decide({ principal: sessionArn(fn.name), action, resource, context, identity: [fn.policy] });
    return { fn, run };
  };

  it("hold no right on any org partition: tenant data only through the tenant data role", async () => {
    for (const route of routes) {
      const { run } = await tenantCalls(route.id);
      expect(await run("dynamodb:GetItem", table, { "dynamodb:LeadingKeys": ["ORG#acme"] }), route.id).toBe("ImplicitlyDenied");
      expect(await run("dynamodb:Scan", table, {}), route.id).toBe("ExplicitlyDenied");
      expect(await run("dynamodb:GetItem", table, { "dynamodb:LeadingKeys": ["REGISTRY#ORG#acme"] }), route.id).toBe("Allowed");
    }
  });

  it("a platform route that changes an org's record may put that change's audit record in any org's record partition, and nothing else of an org", async () => {
    for (const route of routes) {
      const { run } = await tenantCalls(route.id);
      const puts = route.host === "platform" && route.method !== "GET" && route.auditOrgFrom !== undefined;
      const put = (partition: string) => run("dynamodb:PutItem", table, { "dynamodb:LeadingKeys": [partition] });
      expect(await put(keys.auditRecord("acme", "01J00000000000000000000000").PK), route.id).toBe(puts ? "Allowed" : "ImplicitlyDenied");
      for (const other of ["ORG#acme", "ORG#acme#AUDIT", "ORG#acme#APP#a", "ORG#acme#RATE"]) expect(await put(other), `${route.id} ${other}`).toBe("ImplicitlyDenied");
      for (const action of ["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query"]) {
        expect(await run(action, table, { "dynamodb:LeadingKeys": [keys.auditRecord("acme", "x").PK] }), `${route.id} ${action}`).toBe("ImplicitlyDenied");
      }
    }
  });

  it("may assume the tenant data role with an org tag only on org routes", async () => {
    for (const route of routes) {
      const { run } = await tenantCalls(route.id);
      const tagged = { "aws:RequestTag/org": "acme", "aws:TagKeys": ["org"] };
      const expected = route.host === "org" ? "Allowed" : "ImplicitlyDenied";
      expect(await run("sts:AssumeRole", role.arn, tagged), route.id).toBe(expected);
      expect(await run("sts:TagSession", role.arn, tagged), route.id).toBe(expected);
      expect(await run("sts:TagSession", role.arn, {}), route.id).toBe("ImplicitlyDenied");
    }
  });

  it("write the registry only on platform routes that change it, and never list it", async () => {
    for (const route of routes) {
      const { run } = await tenantCalls(route.id);
      const expected = route.host === "platform" && route.method !== "GET" ? "Allowed" : "ImplicitlyDenied";
      expect(await run("dynamodb:PutItem", table, { "dynamodb:LeadingKeys": ["REGISTRY#ORG#acme"] }), route.id).toBe(expected);
      expect(await run("dynamodb:Query", table, { "dynamodb:LeadingKeys": ["REGISTRY#ORG#acme"] }), route.id).toBe("ImplicitlyDenied");
    }
  });
});

describe("the KEK-rotation job's role", () => {
  const asJob = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
    decide({ principal: sessionArn(job.name), action, resource, context, identity: [job.policy] });

  it("is the job's own, named by the stage", () => {
    expect(job.name).toBe(platform.jobRole(KEK_ROTATION_JOB));
    expect(job.trust!.Statement).toEqual([expect.objectContaining({ Principal: { Service: "lambda.amazonaws.com" } })]);
  });

  it("queries the KEK-rotation index by its one partition value, and nothing else of the table", async () => {
    expect(await asJob("dynamodb:Query", rotationIndexArn, { "dynamodb:LeadingKeys": [rotationIndex.partitionValue] })).toBe("Allowed");
    expect(await asJob("dynamodb:Query", rotationIndexArn, { "dynamodb:LeadingKeys": ["ORG#acme"] })).toBe("ImplicitlyDenied");
    expect(await asJob("dynamodb:Query", rotationIndexArn)).toBe("ImplicitlyDenied");
    expect(await asJob("dynamodb:Query", `${table}/index/another-index`, { "dynamodb:LeadingKeys": [rotationIndex.partitionValue] })).toBe("ImplicitlyDenied");
    expect(await asJob("dynamodb:Scan", rotationIndexArn)).toBe("ExplicitlyDenied");
    expect(await asJob("dynamodb:Scan", table)).toBe("ExplicitlyDenied");
  });

  it("reaches no table partition directly: each app's items go through its org's tenant session", async () => {
    await fc.assert(
      fc.asyncProperty(orgSlug, async (org) => {
        for (const action of ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]) {
          expect(await asJob(action, table, { "dynamodb:LeadingKeys": [`ORG#${org}#APP#web`] }), action).toBe("ImplicitlyDenied");
          expect(await asJob(action, table, { "dynamodb:LeadingKeys": [rotationIndex.partitionValue] }), action).toBe("ImplicitlyDenied");
        }
        expect(await asJob("dynamodb:GetItem", table, { "dynamodb:LeadingKeys": [`REGISTRY#ORG#${org}`] })).toBe("ImplicitlyDenied");
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("holds no KEK right of its own, and assumes only the tenant data role, tagged with exactly org", async () => {
    const kek = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bulkhead/acme/web/kek-Ab12Cd`;
    for (const action of ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage", "secretsmanager:DescribeSecret"]) {
      expect(await asJob(action, kek), action).toBe("ImplicitlyDenied");
    }
    const tagged = { "aws:RequestTag/org": "acme", "aws:TagKeys": ["org"] };
    expect(await asJob("sts:AssumeRole", role.arn, tagged)).toBe("Allowed");
    expect(await asJob("sts:TagSession", role.arn, tagged)).toBe("Allowed");
    expect(await asJob("sts:TagSession", role.arn, { "aws:RequestTag/org": "acme", "aws:RequestTag/app": "web", "aws:TagKeys": ["org", "app"] })).toBe("ImplicitlyDenied");
    expect(await asJob("sts:AssumeRole", arn.role(location, platform.deployerRole), tagged)).toBe("ImplicitlyDenied");
  });

  it("through the tenant session, reads and rotates only the tagged org's KEKs, and never lists the index", async () => {
    const asTenantOf = (org: string, action: string, resource: string, context: Record<string, string | string[]> = {}) =>
      decide({ principal: sessionArn(role.name), action, resource, context: { "aws:PrincipalTag/org": org, ...context }, identity: [role.policy] });
    const kek = (org: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bulkhead/${org}/web/kek-Ab12Cd`;
    for (const action of ["secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage", "secretsmanager:GetSecretValue"]) {
      expect(await asTenantOf("acme", action, kek("acme")), action).toBe("Allowed");
      expect(await asTenantOf("acme", action, kek("acme2")), action).toBe("ImplicitlyDenied");
    }
    expect(await asTenantOf("acme", "dynamodb:UpdateItem", table, { "dynamodb:LeadingKeys": ["ORG#acme#APP#web"] })).toBe("Allowed");
    expect(await asTenantOf("acme", "dynamodb:Query", rotationIndexArn, { "dynamodb:LeadingKeys": [rotationIndex.partitionValue] })).toBe("ExplicitlyDenied");
  });
});

describe("the deployment sweep's role", () => {
  const activeIndex = TABLE_SCHEMA.indexes.activeDeployments;
  const activeIndexArn = `${table}/index/${activeIndex.name}`;
  const asSweep = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
    decide({ principal: sessionArn(sweep.name), action, resource, context, identity: [sweep.policy] });

  it("is the job's own, named by the stage", () => {
    expect(sweep.name).toBe(platform.jobRole(DEPLOYMENT_SWEEP_JOB));
    expect(sweep.trust!.Statement).toEqual([expect.objectContaining({ Principal: { Service: "lambda.amazonaws.com" } })]);
  });

  it("queries the active-deployments index by its one partition value, and no other index, no Scan", async () => {
    expect(await asSweep("dynamodb:Query", activeIndexArn, { "dynamodb:LeadingKeys": [activeIndex.partitionValue] })).toBe("Allowed");
    expect(await asSweep("dynamodb:Query", activeIndexArn, { "dynamodb:LeadingKeys": ["ORG#acme"] })).toBe("ImplicitlyDenied");
    expect(await asSweep("dynamodb:Query", activeIndexArn)).toBe("ImplicitlyDenied");
    expect(await asSweep("dynamodb:Query", rotationIndexArn, { "dynamodb:LeadingKeys": [rotationIndex.partitionValue] })).toBe("ImplicitlyDenied");
    expect(await asSweep("dynamodb:Scan", activeIndexArn)).toBe("ExplicitlyDenied");
    expect(await asSweep("dynamodb:Scan", table)).toBe("ExplicitlyDenied");
  });

  it("reaches no table partition, no secret and no deploy role: each deployment is failed through its org's tenant session", async () => {
    await fc.assert(
      fc.asyncProperty(orgSlug, async (org) => {
        for (const action of ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]) {
          expect(await asSweep(action, table, { "dynamodb:LeadingKeys": [`ORG#${org}#APP#web`] }), action).toBe("ImplicitlyDenied");
          expect(await asSweep(action, table, { "dynamodb:LeadingKeys": [activeIndex.partitionValue] }), action).toBe("ImplicitlyDenied");
        }
        expect(await asSweep("dynamodb:GetItem", table, { "dynamodb:LeadingKeys": [`REGISTRY#ORG#${org}`] })).toBe("ImplicitlyDenied");
      }),
      { numRuns: PROPERTY_RUNS },
    );
    expect(await asSweep("secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bulkhead/acme/web/kek-Ab12Cd`)).toBe("ImplicitlyDenied");
    const tagged = { "aws:RequestTag/org": "acme", "aws:TagKeys": ["org"] };
    expect(await asSweep("sts:AssumeRole", role.arn, tagged)).toBe("Allowed");
    expect(await asSweep("sts:TagSession", role.arn, tagged)).toBe("Allowed");
    expect(await asSweep("sts:AssumeRole", arn.role(location, platform.deployerRole), tagged)).toBe("ImplicitlyDenied");
    expect(await asSweep("states:StopExecution", `arn:aws:states:${REGION}:${ACCOUNT}:execution:${platform.deploymentStateMachine}:d1`)).toBe("ImplicitlyDenied");
  });

  it("through the tenant session, ends only the tagged org's deployments, and never lists either index", async () => {
    const asTenantOf = (org: string, action: string, resource: string, context: Record<string, string | string[]> = {}) =>
      decide({ principal: sessionArn(role.name), action, resource, context: { "aws:PrincipalTag/org": org, ...context }, identity: [role.policy] });
    expect(await asTenantOf("acme", "dynamodb:UpdateItem", table, { "dynamodb:LeadingKeys": ["ORG#acme#APP#web"] })).toBe("Allowed");
    expect(await asTenantOf("acme", "dynamodb:UpdateItem", table, { "dynamodb:LeadingKeys": ["ORG#acme2#APP#web"] })).toBe("ImplicitlyDenied");
    expect(await asTenantOf("acme", "dynamodb:Query", activeIndexArn, { "dynamodb:LeadingKeys": [activeIndex.partitionValue] })).toBe("ExplicitlyDenied");
  });
});
