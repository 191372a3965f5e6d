import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { NO_TENANT_ROLE, tenantDataRoleArn } from "../config.ts";
import { TENANT_SESSION_TAG } from "../iam/tenant-data.ts";

/** Long enough to amortise the STS call; short enough that a leaked session is soon useless. */
export const TENANT_SESSION_SECONDS = 900;

let sts: STSClient | undefined;

/**
 * Layer 4: credentials for one org's data. The tenant data role is assumed with the session tag
 * `org=<org>`, and its policy admits only DynamoDB keys under `ORG#${aws:PrincipalTag/org}`, so
 * IAM holds the line even if everything above it (guard included) is compromised. The SDK
 * memoizes the returned identity and calls again shortly before `expiration`. Offline the link
 * names no role (DynamoDB Local ignores credentials): undefined, the client's own credentials.
 */
export function tenantCredentials(org: string): AwsCredentialIdentityProvider | undefined {
  const roleArn = tenantDataRoleArn();
  if (roleArn === NO_TENANT_ROLE) return undefined;
  return async () => {
    sts ??= new STSClient({});
    const { Credentials } = await sts.send(new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: `org-${org}`,
      DurationSeconds: TENANT_SESSION_SECONDS,
      Tags: [{ Key: TENANT_SESSION_TAG, Value: org }],
    }));
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey) throw new Error("AssumeRole returned no credentials");
    return {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
      expiration: Credentials.Expiration,
    };
  };
}
