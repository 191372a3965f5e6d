/**
 * The trust policy a customer attaches to its BYOI deploy role. One pure function, owned here
 * until the IAM policy module (packages/core/src/iam/) lands; then this moves there.
 */
export type PolicyDocument = {
  Version: "2012-10-17";
  Statement: readonly Record<string, unknown>[];
};

/** The session tags the deploy workflow sets on AssumeRole (see DESIGN.md, "Deploy"). */
export const DEPLOY_SESSION_TAG_KEYS = ["org", "app", "deployment"] as const;

/**
 * The trust policy of the customer's role, which must be named `bulkhead-deploy-<org>` with no
 * path (iam/deploy-role-name.ts; POST /v1/targets refuses other names and returns the rule with
 * this policy as `deployRoleNaming`).
 * Lets only the platform's deployer role assume the customer's role, only with this target's
 * ExternalId (the confused-deputy guard), and only with sessions tagged for this org. AssumeRole
 * with session tags needs `sts:TagSession` as well; that statement pins the `org` tag and allows no
 * other tag keys than the workflow's.
 */
export function deployRoleTrustPolicy(input: { deployerRoleArn: string; externalId: string; org: string }): PolicyDocument {
  const principal = { AWS: input.deployerRoleArn };
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "BulkheadDeployerAssumeRole",
        Effect: "Allow",
        Principal: principal,
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "sts:ExternalId": input.externalId } },
      },
      {
        Sid: "BulkheadDeployerSessionTags",
        Effect: "Allow",
        Principal: principal,
        Action: "sts:TagSession",
        Condition: {
          StringEquals: { "aws:RequestTag/org": input.org },
          "ForAllValues:StringEquals": { "aws:TagKeys": [...DEPLOY_SESSION_TAG_KEYS] },
        },
      },
    ],
  };
}
