/**
 * The AWS names a BYOI target is made of. Strict on purpose: the role ARN ends up in STS calls
 * and in the trust policy the customer reviews, so anything unusual is refused, not normalized.
 */

/** A 12-digit AWS account id. */
export const ACCOUNT_ID = /^\d{12}$/;

/** A commercial, China or GovCloud region, e.g. eu-west-1, cn-north-1, us-gov-west-1. */
export const REGION = /^(?:[a-z]{2}|us-gov)-[a-z]+-\d{1,2}$/;

/**
 * An IAM role ARN: partition, empty region, account, `role/`, optional path, role name
 * (1–64 of IAM's role-name characters).
 */
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;

export type RoleArn = { partition: string; accountId: string; path: string; name: string };

export function parseRoleArn(arn: string): RoleArn | undefined {
  if (arn.length > 2048) return undefined;
  const match = ROLE_ARN.exec(arn);
  if (!match) return undefined;
  return { partition: match[1]!, accountId: match[2]!, path: `/${match[3]!}`, name: match[4]! };
}

/** The partition a region belongs to: a role can only be assumed within its own partition. */
export function partitionOfRegion(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}
