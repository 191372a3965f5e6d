import { randomUUID } from "node:crypto";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { linkEnvironment } from "../packages/core/src/config.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { TENANT_SESSION_SECONDS, tenantCredentials } from "../packages/core/src/data/tenant-credentials.ts";
import { ensureTable, LOCAL_AWS_ENV, localClient } from "../packages/local/src/dynamodb.ts";

const ROLE = "arn:aws:iam::123456789012:role/bulkhead-tenant-data";
const tableName = `t-${randomUUID()}`;
const sts = mockClient(STSClient);

beforeAll(async () => {
  const endpoint = inject("dynamoEndpoint");
  await ensureTable(localClient(endpoint), tableName);
  Object.assign(process.env, LOCAL_AWS_ENV, { AWS_ENDPOINT_URL_DYNAMODB: endpoint }, linkEnvironment({
    tableName, baseDomain: "localhost", cursorKey: "k", tenantDataRoleArn: ROLE, deployerRoleArn: "arn:aws:iam::123456789012:role/bulkhead-deployer",
    auth: { issuer: "https://issuer.invalid", audience: "a", jwksUri: "https://issuer.invalid/jwks" },
  }));
  sts.on(AssumeRoleCommand).callsFake((input: { Tags: { Value: string }[] }) => ({
    Credentials: {
      AccessKeyId: `ASIA${input.Tags[0]!.Value.toUpperCase()}`,
      SecretAccessKey: "secret",
      SessionToken: "session",
      Expiration: new Date(Date.now() + TENANT_SESSION_SECONDS * 1000),
    },
  }));
});

/** The access key id each request of a handle was signed with. */
function signingKeys(table: ReturnType<typeof tenantTable>): string[] {
  const seen: string[] = [];
  table.client.middlewareStack.add((next) => (args: any) => {
    seen.push(/Credential=([A-Z0-9]+)\//.exec(args.request.headers.authorization)?.[1] ?? "unsigned");
    return next(args);
  }, { step: "deserialize", priority: "low", name: `capture-${randomUUID()}` });
  return seen;
}

describe("layer 4 in the cloud: tenant data is read with org-tagged session credentials", () => {
  it("assumes the tenant data role once per org with the org session tag, and signs with it", async () => {
    const acme = tenantTable("acme");
    const globex = tenantTable("globex");
    const acmeKeys = signingKeys(acme);
    const globexKeys = signingKeys(globex);
    for (let i = 0; i < 3; i++) {
      await acme.client.send(new GetCommand({ TableName: tableName, Key: { PK: "ORG#acme", SK: "X" } }));
      await globex.client.send(new GetCommand({ TableName: tableName, Key: { PK: "ORG#globex", SK: "X" } }));
    }
    const calls = sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
    expect(calls).toEqual([
      { RoleArn: ROLE, RoleSessionName: "org-acme", DurationSeconds: TENANT_SESSION_SECONDS, Tags: [{ Key: "org", Value: "acme" }] },
      { RoleArn: ROLE, RoleSessionName: "org-globex", DurationSeconds: TENANT_SESSION_SECONDS, Tags: [{ Key: "org", Value: "globex" }] },
    ]);
    // Another client of the same org (the key store's Secrets Manager client) shares the session.
    expect((await tenantCredentials("acme")!()).accessKeyId).toBe("ASIAACME");
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    expect(acmeKeys).toEqual(["ASIAACME", "ASIAACME", "ASIAACME"]);
    expect(globexKeys).toEqual(["ASIAGLOBEX", "ASIAGLOBEX", "ASIAGLOBEX"]);
  });
});
