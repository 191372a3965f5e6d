import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { BoundedCache } from "../bounded-cache.ts";
import { NO_TENANT_ROLE, tenantDataRoleArn } from "../config.ts";
import { TENANT_SESSION_TAG } from "./tenant-session.ts";

/** Long enough to amortise the STS call; short enough that a leaked session is soon useless. */
export const TENANT_SESSION_SECONDS = 900;
/** A session this close to expiring is renewed rather than handed out. */
const RENEW_BEFORE_MS = 60_000;
const MAX_CACHED_ORGS = 256;

let sts: STSClient | undefined;
const providers = new BoundedCache<string, AwsCredentialIdentityProvider>(MAX_CACHED_ORGS);

async function assumeTenantRole(roleArn: string, org: string): Promise<AwsCredentialIdentity> {
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
}

/**
 * Layer 4: credentials for one org's data. The tenant data role is assumed with the session tag
 * `org=<org>`, and its policy admits only DynamoDB keys under `ORG#${aws:PrincipalTag/org}` (and
 * the org's own KEK secrets), so IAM holds the line even if everything above it (guard included)
 * is compromised. One provider per org, shared by every client of that org (DynamoDB, Secrets
 * Manager): one AssumeRole per org per session, renewed shortly before it expires. Offline the
 * link names no role (DynamoDB Local ignores credentials): undefined, the client's own credentials.
 */
export function tenantCredentials(org: string): AwsCredentialIdentityProvider | undefined {
  const roleArn = tenantDataRoleArn();
  if (roleArn === NO_TENANT_ROLE) return undefined;
  let provider = providers.get(org);
  if (!provider) {
    let current: AwsCredentialIdentity | undefined;
    let renewing: Promise<AwsCredentialIdentity> | undefined;
    provider = async () => {
      if (current?.expiration && current.expiration.getTime() - Date.now() > RENEW_BEFORE_MS) return current;
      renewing ??= assumeTenantRole(roleArn, org).finally(() => (renewing = undefined));
      current = await renewing;
      return current;
    };
    providers.set(org, provider);
  }
  return provider;
}
