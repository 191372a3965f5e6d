import { arn, type AwsLocation } from "./arn.ts";
import { assertExternalId, customerDeployTrust, DEPLOY_SESSION_TAGS } from "./customer-deploy-trust.ts";
import { customerDeployRoleName } from "./deploy-role-name.ts";
import { policyDocument, type RoleDocuments, type Statement } from "./document.ts";
import { releaseFunctionName, type AppScope, type PlatformNames } from "./names.ts";
import { customerPolicy, RELEASE_ACTIONS } from "./phases.ts";
import { allowTagging, refuseUnsafeTagValues, tagOnly } from "./session-tags.ts";
import { lambdaTrust } from "./trust.ts";

export { customerDeployRoleName, DEPLOY_ROLE_NAME_RULE, isCustomerDeployRole } from "./deploy-role-name.ts";
export { assertExternalId, customerDeployTrust, DEPLOY_SESSION_TAGS } from "./customer-deploy-trust.ts";

/** Every deploy role the platform may assume: any account, named by customerDeployRoleName. */
export const deployTargetRoles = (l: AwsLocation): string =>
  // Customer accounts are not known when the platform is deployed: the account stays a wildcard,
  // the name does not, and each target's trust policy demands its own ExternalId and org tag.
  `arn:${l.partition}:iam::*:role/${customerDeployRoleName("*")}`;

/**
 * The deployer's own statements; the deploy task that applies releases runs with exactly these
 * (workflows.ts): assume deploy targets' roles, and the platform's artifact reader, each only
 * with the deployment's session tags. It holds no right on the artifact bucket itself.
 */
export const deployerStatements = (l: AwsLocation, platform: PlatformNames): Statement[] => {
  const reader = arn.role(l, platform.artifactReaderRole);
  return [
    { Sid: "AssumeDeployTargets", Effect: "Allow", Action: ["sts:AssumeRole"], Resource: [deployTargetRoles(l)] },
    tagOnly("TagDeploySessions", [deployTargetRoles(l)], DEPLOY_SESSION_TAGS),
    { Sid: "AssumeArtifactReader", Effect: "Allow", Action: ["sts:AssumeRole"], Resource: [reader] },
    tagOnly("TagArtifactReaderSessions", [reader], DEPLOY_SESSION_TAGS),
  ];
};

/**
 * The platform identity that runs deploy tasks: it can only assume org deploy roles and the
 * artifact reader, and only with the org/app/deployment session tags. Which role and which
 * ExternalId are the target's business; the target's trust policy enforces both.
 */
export function deployerRole(input: { location: AwsLocation; platform: PlatformNames }): RoleDocuments {
  const { location: l, platform } = input;
  const policy = policyDocument(deployerStatements(l, platform));
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
  const name = customerDeployRoleName(scope.org);
  const trust = customerDeployTrust({ deployerRoleArn, externalId: input.externalId, org: scope.org });
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

/**
 * The hosted target: the platform's own account as a deploy target, one role for every org. Its
 * name follows the deploy-role convention, so the deployer reaches it by the same statement as a
 * customer's; `_` cannot occur in an org slug, so no org's role can ever be named like it.
 */
export const hostedDeployRoleName = (stage: string): string => customerDeployRoleName(`hosted_${stage}`);

/** What a hosted deploy session's tags name: names.ts derives the release function from them. */
const SESSION_ORG = "${aws:PrincipalTag/org}";
const SESSION_APP = "${aws:PrincipalTag/app}";

export type HostedDeployRoleInput = {
  location: AwsLocation;
  platform: PlatformNames;
  deployerRoleArn: string;
  externalId: string;
};

/**
 * Assumed by the platform deployer only, with the hosted target's ExternalId and the deploy
 * session tags. A session reaches only the release function of the org and app its tags name:
 * app references hold no `-`, so releaseFunctionName names one app of one org. Like a customer's
 * role it reads no artifact: the code arrives in the request.
 */
export function hostedDeployRole(input: HostedDeployRoleInput): RoleDocuments {
  const { location: l, platform } = input;
  const externalId = assertExternalId(input.externalId);
  const name = hostedDeployRoleName(platform.stage);
  const fn = arn.lambda(l, releaseFunctionName(SESSION_ORG, SESSION_APP));
  const tagged = { Null: { "aws:PrincipalTag/org": "false", "aws:PrincipalTag/app": "false" } };
  const policy = policyDocument([
    {
      Sid: "UpdateTaggedAppFunction",
      Effect: "Allow",
      Action: [...RELEASE_ACTIONS],
      Resource: [fn, `${fn}:*`],
      Condition: tagged,
    },
  ]);
  const deployer = { AWS: input.deployerRoleArn };
  const trust = policyDocument([
    { Sid: "PlatformDeployerWithExternalId", Effect: "Allow", Principal: deployer, Action: ["sts:AssumeRole"], Condition: { StringEquals: { "sts:ExternalId": externalId } } },
    allowTagging("DeploySessionTags", deployer, DEPLOY_SESSION_TAGS),
    ...refuseUnsafeTagValues(DEPLOY_SESSION_TAGS),
  ]);
  return {
    kind: "role",
    name,
    arn: arn.role(l, name),
    description: "Hosted deploy target: the platform deployer updates the function of the org and app its session tags name",
    policy,
    trust,
    sessionTags: [...DEPLOY_SESSION_TAGS],
  };
}
