import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentityProvider } from "@smithy/types";

/** Long enough to amortise the STS call; short enough that a removed org loses access soon. */
export const TENANT_SESSION_SECONDS = 900;

let sts: STSClient | undefined;

/**
 * Layer 4: credentials for one org's data. The tenant data role is assumed with the session tag
 * `org=<org>`, and its policy admits only DynamoDB keys under `ORG#${aws:PrincipalTag/org}`, so
 * IAM holds the line even if everything above it (guard included) is compromised. The SDK
 * memoizes the returned identity and calls again shortly before `expiration`.
 */
export function tenantCredentials(roleArn: string, org: string): AwsCredentialIdentityProvider {
  return async () => {
    sts ??= new STSClient({});
    const { Credentials } = await sts.send(new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: `tenant-${org}`,
      DurationSeconds: TENANT_SESSION_SECONDS,
      Tags: [{ Key: "org", Value: org }],
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
