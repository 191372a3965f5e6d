import { describe, expect, it } from "vitest";
import { arn, awsLocation } from "../../packages/core/src/iam/arn.ts";
import { hostedDeployRole } from "../../packages/core/src/iam/deploy.ts";
import { policyDocument } from "../../packages/core/src/iam/document.ts";
import { appNames, appScope, platformNames } from "../../packages/core/src/iam/names.ts";
import { taskRole } from "../../packages/core/src/iam/workflows.ts";
import { tasks } from "../../packages/core/src/workflows/tasks.ts";
import { ACCOUNT, decide, OTHER_ACCOUNT, REGION, sessionArn } from "../support/iam.ts";

const location = awsLocation({ account: ACCOUNT, region: REGION });
const platform = platformNames({ stage: "test", account: ACCOUNT, region: REGION });
const trustsPlatformAccount = policyDocument([{ Sid: "PlatformAccount", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ["sts:AssumeRole"] }]);
const roleOf = (id: string) => taskRole({ location, platform, task: tasks.find((t) => t.id === id)! });

describe("workflow task roles", () => {
  it("the apply task (the deployer) assumes deploy roles named by the convention in any account, and nothing else", async () => {
    const apply = roleOf("deploys.apply");
    expect(apply.name).toBe(platform.deployerRole);
    // Targets that trust the whole platform account, so only the task's own policy decides.
    const assume = (resource: string, resourceAccount = OTHER_ACCOUNT) =>
      decide({ principal: sessionArn(apply.name), action: "sts:AssumeRole", resource, resourceAccount, identity: [apply.policy], resourcePolicy: trustsPlatformAccount });
    expect(await assume(`arn:aws:iam::${OTHER_ACCOUNT}:role/bulkhead-deploy-acme`)).toBe("Allowed");
    expect(await assume(arn.role(location, "bulkhead-deploy-hosted_test"), ACCOUNT)).toBe("Allowed");
    expect(await assume(`arn:aws:iam::${OTHER_ACCOUNT}:role/OrganizationAccountAccessRole`)).toBe("ImplicitlyDenied");
    expect(await assume(`arn:aws:iam::${OTHER_ACCOUNT}:role/team/bulkhead-deploy-acme`)).toBe("ImplicitlyDenied");
    expect(await assume(arn.role(location, platform.deploymentMachineRole), ACCOUNT)).toBe("ImplicitlyDenied");
    // The platform's artifact reader, in its own account: the artifact is read through it.
    expect(await assume(arn.role(location, platform.artifactReaderRole), ACCOUNT)).toBe("Allowed");
    expect(await assume(`arn:aws:iam::${OTHER_ACCOUNT}:role/${platform.artifactReaderRole}`)).toBe("ImplicitlyDenied");
  });

  it("the apply task holds no right on the artifact bucket itself", async () => {
    const apply = roleOf("deploys.apply");
    for (const action of ["s3:GetObject", "s3:PutObject"]) {
      expect(await decide({ principal: sessionArn(apply.name), action, resource: `arn:aws:s3:::${platform.artifactBucket}/acme/web/d1/artifact.zip`, identity: [apply.policy] }), action)
        .toBe("ImplicitlyDenied");
    }
  });

  it("no other task assumes a deploy role or the artifact reader", async () => {
    for (const task of tasks.filter((t) => t.id !== "deploys.apply")) {
      const role = roleOf(task.id);
      for (const [resource, resourceAccount] of [
        [`arn:aws:iam::${OTHER_ACCOUNT}:role/bulkhead-deploy-acme`, OTHER_ACCOUNT],
        [arn.role(location, platform.artifactReaderRole), ACCOUNT],
      ] as const) {
        expect(await decide({
          principal: sessionArn(role.name), action: "sts:AssumeRole", resource, resourceAccount, identity: [role.policy], resourcePolicy: trustsPlatformAccount,
        }), `${task.id} ${resource}`).toBe("ImplicitlyDenied");
      }
    }
  });

  it("the prepare task creates build roles only with the build boundary, and cannot lift it", async () => {
    const prepare = roleOf("builds.prepare");
    const buildRoleName = appNames(appScope({ org: "acme", app: "web" })).buildRole;
    const buildRole = `arn:aws:iam::${ACCOUNT}:role/bulkhead/build/${buildRoleName}`;
    const boundary = arn.managedPolicy(location, platform.buildRoleBoundary);
    const run = (action: string, context: Record<string, string>, resource = buildRole) =>
      decide({ principal: sessionArn(prepare.name), action, resource, context, identity: [prepare.policy] });
    expect(await run("iam:CreateRole", { "iam:PermissionsBoundary": boundary })).toBe("Allowed");
    expect(await run("iam:CreateRole", {})).toBe("ImplicitlyDenied");
    expect(await run("iam:CreateRole", { "iam:PermissionsBoundary": arn.managedPolicy(location, "AdministratorAccess") })).toBe("ImplicitlyDenied");
    expect(await run("iam:CreateRole", { "iam:PermissionsBoundary": boundary }, arn.role(location, buildRoleName))).toBe("ImplicitlyDenied");
    expect(await run("iam:DeleteRolePermissionsBoundary", {})).toBe("ImplicitlyDenied");
    expect(await run("iam:PutRolePermissionsBoundary", { "iam:PermissionsBoundary": boundary })).toBe("ImplicitlyDenied");
  });
});

describe("the hosted deploy role", () => {
  const hosted = hostedDeployRole({
    location, platform, deployerRoleArn: arn.role(location, platform.deployerRole), externalId: "x".repeat(40),
  });
  const app = "abcdefghijklmnopqrstuvwxyz";
  const asSession = (tags: Record<string, string>, action: string, resource: string) =>
    decide({
      principal: sessionArn(hosted.name, "d1"),
      action,
      resource,
      context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
      identity: [hosted.policy],
    });

  it("updates only the function of the org and app its session tags name, and reads no artifact", async () => {
    const tags = { org: "acme", app, deployment: "d1" };
    expect(await asSession(tags, "lambda:UpdateFunctionCode", arn.lambda(location, `bh-acme-${app}`))).toBe("Allowed");
    expect(await asSession(tags, "lambda:UpdateAlias", `${arn.lambda(location, `bh-acme-${app}`)}:live`)).toBe("Allowed");
    expect(await asSession(tags, "lambda:UpdateFunctionCode", arn.lambda(location, `bh-acme2-${app}`))).toBe("ImplicitlyDenied");
    expect(await asSession(tags, "lambda:UpdateFunctionCode", arn.lambda(location, `bh-acme-${app}x`))).toBe("ImplicitlyDenied");
    expect(await asSession({ org: "acme", app: "*", deployment: "d1" }, "lambda:UpdateFunctionCode", arn.lambda(location, `bh-acme-${app}`))).toBe("ImplicitlyDenied");
    expect(await asSession(tags, "s3:GetObject", `arn:aws:s3:::${platform.artifactBucket}/acme/${app}/d1/artifact.zip`)).toBe("ImplicitlyDenied");
    expect(await asSession(tags, "s3:GetObject", `arn:aws:s3:::${platform.artifactBucket}/acme2/${app}/d1/artifact.zip`)).toBe("ImplicitlyDenied");
    expect(await asSession({}, "lambda:UpdateFunctionCode", arn.lambda(location, `bh-acme-${app}`))).toBe("ImplicitlyDenied");
  });

  it("trusts the platform deployer alone, with the ExternalId", async () => {
    const assume = (principal: string, externalId: string) =>
      decide({ principal, action: "sts:AssumeRole", resource: hosted.arn, context: { "sts:ExternalId": externalId }, resourcePolicy: hosted.trust });
    expect(await assume(arn.role(location, platform.deployerRole), "x".repeat(40))).toBe("Allowed");
    expect(await assume(arn.role(location, platform.deployerRole), "y".repeat(40))).not.toBe("Allowed");
    expect(await assume(arn.role(location, platform.taskRole("builds.prepare")), "x".repeat(40))).not.toBe("Allowed");
  });
});
