import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Layer 4 as the handlers use it: a tenant table's client signs with credentials of the tenant
 * data role, assumed with the session tag `org`. STS is a loopback stand-in that records each
 * AssumeRole call; nothing leaves the machine.
 */
const ROLE_ARN = "arn:aws:iam::123456789012:role/bulkhead-ci-tenant-data";
const assumeCalls: URLSearchParams[] = [];
let sts: Server;

function stsStandIn(): Server {
  return createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const params = new URLSearchParams(body);
      assumeCalls.push(params);
      const org = params.get("Tags.member.1.Value");
      res.setHeader("content-type", "text/xml");
      res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIA${org?.toUpperCase()}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token-${org}</SessionToken>
<Expiration>${new Date(Date.now() + 900_000).toISOString()}</Expiration></Credentials>
<AssumedRoleUser><AssumedRoleId>AROA:${params.get("RoleSessionName")}</AssumedRoleId><Arn>${ROLE_ARN}</Arn></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`);
    });
  });
}

beforeAll(async () => {
  sts = stsStandIn();
  await new Promise<void>((ready) => sts.listen(0, "127.0.0.1", ready));
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIDFUNCTIONROLE",
    AWS_SECRET_ACCESS_KEY: "function-role-secret",
    AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(sts.address() as AddressInfo).port}`,
    SST_RESOURCE_App: JSON.stringify({ name: "bulkhead", stage: "ci" }),
    SST_RESOURCE_Table: JSON.stringify({ type: "sst.aws.Dynamo", name: "bulkhead-ci" }),
    SST_RESOURCE_TenantData: JSON.stringify({ type: "sst.sst.Linkable", roleArn: ROLE_ARN }),
  });
});

afterAll(() => new Promise<void>((done) => sts.close(() => done())));

describe("a tenant table's credentials", () => {
  it("come from the tenant data role, assumed with the org as the only session tag", async () => {
    const { tenantTable } = await import("../packages/core/src/data/tables.ts");
    const credentials = await tenantTable("acme").client.config.credentials();
    expect(credentials).toMatchObject({ accessKeyId: "ASIAACME", sessionToken: "token-acme" });
    const call = Object.fromEntries(assumeCalls.at(-1)!);
    expect(call).toMatchObject({
      Action: "AssumeRole",
      RoleArn: ROLE_ARN,
      RoleSessionName: "org-acme",
      DurationSeconds: "900",
      "Tags.member.1.Key": "org",
      "Tags.member.1.Value": "acme",
    });
    expect(Object.keys(call).filter((key) => key.startsWith("Tags.member.")).sort()).toEqual(["Tags.member.1.Key", "Tags.member.1.Value"]);
  });

  it("are kept per org: one AssumeRole per org for the instance's lifetime, never shared between orgs", async () => {
    const { tenantTable } = await import("../packages/core/src/data/tables.ts");
    const before = assumeCalls.length;
    const globex = await tenantTable("globex").client.config.credentials();
    await tenantTable("globex").client.config.credentials();
    const acme = await tenantTable("acme").client.config.credentials();
    expect(globex.accessKeyId).toBe("ASIAGLOBEX");
    expect(acme.accessKeyId).toBe("ASIAACME");
    expect(assumeCalls.slice(before).map((p) => p.get("Tags.member.1.Value"))).toEqual(["globex"]);
  });

  it("are the function's own for the registry: platform items never go through the tenant role", async () => {
    const { platformTable } = await import("../packages/core/src/data/tables.ts");
    const before = assumeCalls.length;
    expect((await platformTable().client.config.credentials()).accessKeyId).toBe("AKIDFUNCTIONROLE");
    expect(assumeCalls.length).toBe(before);
  });
});
