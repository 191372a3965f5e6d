import { randomUUID } from "node:crypto";
import { CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linkEnvironment } from "../packages/core/src/config.ts";
import { SecretsManagerKeyStore } from "../packages/core/src/key-stores/secrets-manager-key-store.ts";
import { TENANT_SESSION_SECONDS } from "../packages/core/src/data/tenant-credentials.ts";

/**
 * Which credentials sign each org's Secrets Manager calls. aws-sdk-client-mock replaces `send`
 * before signing, so each fake resolves the calling client's own credentials (as signing would)
 * and records the access key next to the secret it was used for.
 */
const ROLE = "arn:aws:iam::123456789012:role/bulkhead-test-tenant-data";
const sts = mockClient(STSClient);
const sm = mockClient(SecretsManagerClient);
const signedWith: { secret: string; accessKeyId: string }[] = [];

const app = "abcdefghijklmnopqrstuvwxyz";
const secretOf = (org: string) => `bulkhead/${org}/${app}/kek`;

beforeAll(() => {
  Object.assign(process.env, linkEnvironment({
    tableName: "unused", baseDomain: "localhost", cursorKey: "k", tenantDataRoleArn: ROLE, deployerRoleArn: "arn:aws:iam::123456789012:role/bulkhead-test-deployer",
    auth: { issuer: "https://issuer.invalid", audience: "a", jwksUri: "https://issuer.invalid/jwks" },
  }));
  sts.on(AssumeRoleCommand).callsFake((input: { Tags: { Value: string }[] }) => ({
    Credentials: {
      AccessKeyId: `ASIA${input.Tags[0]!.Value.toUpperCase().replaceAll("-", "")}`,
      SecretAccessKey: "secret",
      SessionToken: "session",
      Expiration: new Date(Date.now() + TENANT_SESSION_SECONDS * 1000),
    },
  }));
  const record = async (secret: string, client: SecretsManagerClient) => {
    const identity = await client.config.credentials();
    signedWith.push({ secret, accessKeyId: identity.accessKeyId });
  };
  sm.on(CreateSecretCommand).callsFake(async (input, getClient) => {
    await record(input.Name, getClient() as SecretsManagerClient);
    return {};
  });
  sm.on(GetSecretValueCommand).callsFake(async (input, getClient) => {
    await record(input.SecretId, getClient() as SecretsManagerClient);
    return { VersionId: input.VersionId ?? randomUUID(), SecretBinary: Buffer.alloc(32, 1) };
  });
  sm.on(DeleteSecretCommand).callsFake(async (input, getClient) => {
    await record(input.SecretId, getClient() as SecretsManagerClient);
    return {};
  });
});

afterAll(() => {
  sts.restore();
  sm.restore();
});

describe("the Secrets Manager key store in the cloud: each org's KEKs through its own tenant session", () => {
  it("signs every call for org X with credentials from AssumeRole of the tenant data role tagged org=X, one session per org", async () => {
    const store = new SecretsManagerKeyStore({ recoveryWindowDays: 7 });
    for (const org of ["acme", "acme2", "globex"]) {
      await store.create({ org, app }, randomUUID());
      await store.current({ org, app });
      await store.version({ org, app }, randomUUID());
      await store.destroy({ org, app });
    }
    await store.current({ org: "acme", app });

    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual(["acme", "acme2", "globex"].map((org) => ({
      RoleArn: ROLE, RoleSessionName: `org-${org}`, DurationSeconds: TENANT_SESSION_SECONDS, Tags: [{ Key: "org", Value: org }],
    })));
    const expected = (org: string, times: number) => Array.from({ length: times }, () => ({ secret: secretOf(org), accessKeyId: `ASIA${org.toUpperCase()}` }));
    expect(signedWith).toEqual([...expected("acme", 4), ...expected("acme2", 4), ...expected("globex", 4), ...expected("acme", 1)]);
  });
});
