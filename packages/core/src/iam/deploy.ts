import { arn, type AwsLocation } from "./arn.ts";
import { policyDocument, type RoleDocuments } from "./document.ts";
import type { AppScope, PlatformNames } from "./names.ts";
import { customerPolicy } from "./phases.ts";
import { allowTagging, refuseUnsafeTagValues, tagOnly } from "./session-tags.ts";
import { lambdaTrust } from "./trust.ts";

/** The session tags every deploy session carries, set by the platform's AssumeRole call. */
export const DEPLOY_SESSION_TAGS = ["org", "app", "deployment"] as const;

/** The role each org's deploy target exposes (in a customer's account, or the platform's for hosted targets). */
export const customerDeployRoleName = (org: string): string => `bulkhead-deploy-${org}`;

/** AWS accepts 2–1224 characters of this set; the platform generates at least 32. */
const EXTERNAL_ID = /^[A-Za-z0-9+=,.@:/_-]{32,1224}$/;

export function assertExternalId(externalId: string): string {
  if (!EXTERNAL_ID.test(externalId)) throw new Error("an ExternalId is 32–1224 characters of A-Z a-z 0-9 + = , . @ : / _ -");
  return externalId;
}

/**
 * The platform identity that runs deploy tasks: it can only assume org deploy roles, and only
 * with the org/app/deployment session tags. Which role and which ExternalId are the target's
 * business; the target's trust policy enforces both.
 */
export function deployerRole(input: { location: AwsLocation; platform: PlatformNames }): RoleDocuments {
  const { location: l, platform } = input;
  // Customer accounts are not known when the platform is deployed: any account, but only roles
  // named by customerDeployRoleName, and their trust policies demand the target's ExternalId.
  const targets = `arn:${l.partition}:iam::*:role/${customerDeployRoleName("*")}`;
  const policy = policyDocument([
    { Sid: "AssumeDeployTargets", Effect: "Allow", Action: ["sts:AssumeRole"], Resource: [targets] },
    tagOnly("TagDeploySessions", [targets], DEPLOY_SESSION_TAGS),
  ]);
  return {
    kind: "role",
    name: platform.deployerRole,
    arn: arn.role(l, platform.deployerRole),
    description: "Platform deploy tasks: assume org deploy roles with ExternalId and session tags",
    policy,
    trust: lambdaTrust(),
    sessionTags: [],
  };
}

export type CustomerDeployRoleInput = {
  /** The target's account and region. */
  target: AwsLocation;
  scope: AppScope;
  deployerRoleArn: string;
  externalId: string;
};

/**
 * The trust policy a customer pastes (the template) and the identity policy that bounds every
 * phase for one app. Only the platform's deployer may assume it, only with this target's
 * ExternalId, and only for sessions tagged with this org.
 */
export function customerDeployRole(input: CustomerDeployRoleInput): RoleDocuments {
  const { target, scope, deployerRoleArn } = input;
  const externalId = assertExternalId(input.externalId);
  const name = customerDeployRoleName(scope.org);
  const trust = policyDocument([
    {
      Sid: "PlatformDeployerWithExternalId",
      Effect: "Allow",
      Principal: { AWS: deployerRoleArn },
      Action: ["sts:AssumeRole"],
      Condition: { StringEquals: { "sts:ExternalId": externalId } },
    },
    allowTagging("SessionTagsOfThisOrg", { AWS: deployerRoleArn }, DEPLOY_SESSION_TAGS, { org: scope.org }),
    ...refuseUnsafeTagValues(DEPLOY_SESSION_TAGS),
  ]);
  return {
    kind: "role",
    name,
    arn: arn.role(target, name),
    description: `Deploy target of org ${scope.org}: assumed by the platform deployer only`,
    policy: customerPolicy({ target, scope }),
    trust,
    sessionTags: [...DEPLOY_SESSION_TAGS],
  };
}
