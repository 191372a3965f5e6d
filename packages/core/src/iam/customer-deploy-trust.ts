import { policyDocument, type PolicyDocument } from "./document.ts";
import { allowTagging, refuseUnsafeTagValues } from "./session-tags.ts";

/** The session tags every deploy session carries, set by the platform's AssumeRole call. */
export const DEPLOY_SESSION_TAGS = ["org", "app", "deployment"] as const;

/** The tags of one deploy session, in DEPLOY_SESSION_TAGS order: CloudTrail in the target shows who acted. */
export const deploySessionTags = (values: Record<(typeof DEPLOY_SESSION_TAGS)[number], string>): { key: string; value: string }[] =>
  DEPLOY_SESSION_TAGS.map((key) => ({ key, value: values[key] }));

/** AWS accepts 2–1224 characters of this set; the platform generates at least 32. */
const EXTERNAL_ID = /^[A-Za-z0-9+=,.@:/_-]{32,1224}$/;

export function assertExternalId(externalId: string): string {
  if (!EXTERNAL_ID.test(externalId)) throw new Error("an ExternalId is 32–1224 characters of A-Z a-z 0-9 + = , . @ : / _ -");
  return externalId;
}

/**
 * The trust policy of a customer's deploy role: the document `POST /v1/targets` returns for the
 * customer to paste, and the one the policy simulator proves. Only the platform's deployer may
 * assume the role, only with this target's ExternalId (the confused-deputy guard), and only for
 * sessions tagged with this org and no other tag keys. Kept apart from the other IAM builders so
 * the targets route bundles nothing more.
 */
export function customerDeployTrust(input: { deployerRoleArn: string; externalId: string; org: string }): PolicyDocument {
  const deployer = { AWS: input.deployerRoleArn };
  return policyDocument([
    {
      Sid: "PlatformDeployerWithExternalId",
      Effect: "Allow",
      Principal: deployer,
      Action: ["sts:AssumeRole"],
      Condition: { StringEquals: { "sts:ExternalId": assertExternalId(input.externalId) } },
    },
    allowTagging("SessionTagsOfThisOrg", deployer, DEPLOY_SESSION_TAGS, { org: input.org }),
    ...refuseUnsafeTagValues(DEPLOY_SESSION_TAGS),
  ]);
}
