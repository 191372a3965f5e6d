import { execFileSync, spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allowedActions, type PolicyDocument } from "../../packages/core/src/iam/document.ts";
import { awsLocation } from "../../packages/core/src/iam/arn.ts";
import { PHASES, phaseSessionPolicy, SESSION_POLICY_MAX_CHARS } from "../../packages/core/src/iam/phases.ts";
import { policyReport } from "../../packages/core/src/iam/report.ts";
import { accessLevel, appRef, orgSlug, unknownActions, unneededStarResources, wildcardAllows } from "../support/iam.ts";

/** AWS's cap on a role's inline policies, in characters. */
const ROLE_INLINE_POLICY_MAX_CHARS = 10_240;

const report = (org: string, app: string) => policyReport({ org, app, account: "123456789012", region: "us-east-1", stage: "test" });

function documentsOf(r: ReturnType<typeof report>): [string, PolicyDocument][] {
  return Object.entries(r.roles).flatMap(([key, role]) => [
    [`${key}.policy`, role.policy] as [string, PolicyDocument],
    ...(role.trust ? [[`${key}.trust`, role.trust] as [string, PolicyDocument]] : []),
  ]);
}

describe("every generated document", () => {
  it("grants no wildcard action and no '*' resource unless AWS offers no narrower one", async () => {
    await fc.assert(
      fc.asyncProperty(orgSlug, appRef, async (org, app) => {
        for (const [name, document] of documentsOf(report(org, app))) {
          expect(wildcardAllows(document), name).toEqual([]);
          expect(await unneededStarResources(document), name).toEqual([]);
        }
      }),
      { numRuns: 10 },
    );
  });

  it("names only actions AWS knows, and trusts no one with '*'", async () => {
    for (const [name, document] of documentsOf(report("acme", "web"))) {
      expect(await unknownActions(document), name).toEqual([]);
      const starTrust = document.Statement.filter((s) => s.Effect === "Allow" && (s.Principal === "*" || JSON.stringify(s.Principal ?? {}).includes('"*"')));
      expect(starTrust.map((s) => s.Sid), name).toEqual([]);
    }
  });

  it("fits AWS's size limits: role inline policies and session policies in every partition", () => {
    for (const [name, document] of documentsOf(report("a".repeat(32), "b".repeat(28)))) {
      expect(JSON.stringify(document).length, name).toBeLessThanOrEqual(ROLE_INLINE_POLICY_MAX_CHARS);
    }
    for (const region of ["us-east-1", "ap-southeast-2", "us-gov-west-1", "cn-northwest-1"]) {
      const target = awsLocation({ account: "123456789012", region });
      for (const phase of PHASES) {
        expect(JSON.stringify(phaseSessionPolicy(phase, target)).length, `${phase} ${region}`).toBeLessThanOrEqual(SESSION_POLICY_MAX_CHARS);
      }
    }
  });

  it("keeps Observe read-only: every action it allows is a Read or List action", async () => {
    const observe = report("acme", "web").roles["phase:Observe"]!.policy;
    const levels = Object.fromEntries(await Promise.all(allowedActions(observe).map(async (a) => [a, await accessLevel(a)])));
    expect(Object.keys(levels).length).toBeGreaterThan(5);
    for (const [action, level] of Object.entries(levels)) expect(["Read", "List"], action).toContain(level);
    for (const phase of ["Install", "Deploy", "Operate"] as const) {
      const writes = await Promise.all(allowedActions(report("acme", "web").roles[`phase:${phase}`]!.policy).map(accessLevel));
      expect(writes, phase).toContain("Write");
    }
  });
});

describe("npm run policies", () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", "packages/local/src/cli/policies.ts", ...args], { encoding: "utf8" });

  it("prints the app's resources and every role, phase included", () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", "packages/local/src/cli/policies.ts", "--org", "acme", "--app", "web", "--account", "111122223333", "--region", "eu-west-1"], { encoding: "utf8" });
    const printed = JSON.parse(out);
    expect(Object.keys(printed.roles)).toEqual([
      "runtime", "build", "tenantData", "deployer", "artifactReader", "artifactRead", "customerDeploy",
      "phase:Install", "phase:Observe", "phase:Deploy", "phase:Operate", "release",
    ]);
    expect(printed.resources).toMatchObject({
      credentialStore: { name: "bulkhead/acme/web/kek", arn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:bulkhead/acme/web/kek-??????" },
      artifacts: { bucket: "bulkhead-production-artifacts-111122223333-eu-west-1", prefix: "acme/web/" },
      registryRepository: { name: "bulkhead/acme/web", arn: "arn:aws:ecr:eu-west-1:111122223333:repository/bulkhead/acme/web" },
      logGroups: { runtime: { name: "/bulkhead/acme/web/runtime" }, build: { name: "/bulkhead/acme/web/build" } },
      metricsNamespace: "bulkhead/acme/web",
      table: { name: "bulkhead-production", partitions: ["ORG#acme#APP#web", "ORG#acme#APP#web#*"] },
    });
    expect(printed.roles.tenantData.sessionTags).toEqual(["org"]);
    expect(printed.roles.customerDeploy.sessionTags).toEqual(["org", "app", "deployment"]);
    expect(printed.roles.customerDeploy.trust.Statement[0].Condition.StringEquals["sts:ExternalId"]).toBe("REPLACE-WITH-THE-TARGETS-GENERATED-EXTERNAL-ID");
    expect(printed).toEqual(JSON.parse(JSON.stringify(policyReport({ org: "acme", app: "web", account: "111122223333", region: "eu-west-1", stage: "production" }))));
  });

  it("refuses malformed input with exit code 2", () => {
    expect(cli("--org", "Acme", "--app", "web").status).toBe(2);
    expect(cli("--org", "api", "--app", "web").status).toBe(2);
    expect(cli("--org", "acme", "--app", "we#b").status).toBe(2);
    expect(cli("--org", "acme").status).toBe(2);
    expect(cli("--org", "acme", "--app", "web", "--account", "12").status).toBe(2);
    expect(cli("--org", "acme", "--app", "web", "--external-id", "short").status).toBe(2);
  });
});
