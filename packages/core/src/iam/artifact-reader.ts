import { arn, type AwsLocation } from "./arn.ts";
import { DEPLOY_SESSION_TAGS } from "./customer-deploy-trust.ts";
import { policyDocument, type PolicyDocument, type RoleDocuments } from "./document.ts";
import { artifactKey, artifactPrefixOf, type PlatformNames } from "./names.ts";
import { allowTagging, refuseUnsafeTagValues } from "./session-tags.ts";

/**
 * The platform's artifact reader: how the apply task reads a release's ZIP in the platform's own
 * account before it uploads the bytes to the target (Lambda UpdateFunctionCode `ZipFile`). No
 * target's role, the customer's nor the hosted one, needs any right on the artifact bucket.
 *
 * A session reaches one object: the artifact of the org, app and deployment its session tags
 * name (`<org>/<app>/<deployment>/artifact.zip`), nothing else of the bucket (no sources, no other
 * deployment's artifact, no listing, no write). Only the platform deployer may assume it.
 */

const SESSION_ARTIFACT_KEY = artifactKey(
  { artifactPrefix: artifactPrefixOf("${aws:PrincipalTag/org}", "${aws:PrincipalTag/app}") },
  "${aws:PrincipalTag/deployment}",
);

export function artifactReaderTrust(input: { deployerRoleArn: string }): PolicyDocument {
  const deployer = { AWS: input.deployerRoleArn };
  return policyDocument([
    { Sid: "PlatformDeployer", Effect: "Allow", Principal: deployer, Action: ["sts:AssumeRole"] },
    allowTagging("DeploySessionTags", deployer, DEPLOY_SESSION_TAGS),
    ...refuseUnsafeTagValues(DEPLOY_SESSION_TAGS),
  ]);
}

export function artifactReaderRole(input: { location: AwsLocation; platform: PlatformNames }): RoleDocuments {
  const { location: l, platform } = input;
  const name = platform.artifactReaderRole;
  const policy = policyDocument([{
    Sid: "ReadTaggedDeploymentArtifact",
    Effect: "Allow",
    Action: ["s3:GetObject"],
    // arn.object refuses policy variables in a key; this one is built from the session's tags on purpose.
    Resource: [`${arn.bucket(l, platform.artifactBucket)}/${SESSION_ARTIFACT_KEY}`],
    Condition: { Null: Object.fromEntries(DEPLOY_SESSION_TAGS.map((key) => [`aws:PrincipalTag/${key}`, "false"])) },
  }]);
  return {
    kind: "role",
    name,
    arn: arn.role(l, name),
    description: "Reads the artifact of the deployment its session tags name, for the apply task to upload",
    policy,
    trust: artifactReaderTrust({ deployerRoleArn: arn.role(l, platform.deployerRole) }),
    sessionTags: [...DEPLOY_SESSION_TAGS],
  };
}

/** The session policy the apply task passes: this deployment's artifact object, read only. */
export const artifactReadSessionPolicy = (l: AwsLocation, artifact: { bucket: string; key: string }): PolicyDocument =>
  policyDocument([{ Sid: "ReadThisArtifact", Effect: "Allow", Action: ["s3:GetObject"], Resource: [arn.object(l, artifact.bucket, artifact.key)] }]);
