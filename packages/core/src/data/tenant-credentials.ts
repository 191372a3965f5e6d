import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { NO_TENANT_ROLE, tenantDataRoleArn } from "../config.ts";
import { TENANT_SESSION_TAG } from "../iam/tenant-data.ts";

/** Short sessions: a warm instance refreshes them, and a leaked one is soon useless. */
const SESSION_SECONDS = 900;

/**
 * Layer 4 of DESIGN.md: credentials of the tenant data role, assumed with the session tag
 * `org`, so IAM refuses every key outside `ORG#<org>` whatever the code asks. The provider
 * caches and refreshes; tables.ts keeps one per org for the instance's lifetime. Offline the
 * link says there is no role (undefined: the client's own credentials).
 */
export function tenantCredentials(org: string): ReturnType<typeof fromTemporaryCredentials> | undefined {
  const roleArn = tenantDataRoleArn();
  if (roleArn === NO_TENANT_ROLE) return undefined;
  return fromTemporaryCredentials({
    params: {
      RoleArn: roleArn,
      RoleSessionName: `org-${org}`,
      DurationSeconds: SESSION_SECONDS,
      Tags: [{ Key: TENANT_SESSION_TAG, Value: org }],
    },
  });
}
