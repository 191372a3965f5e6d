import { appBuildRole } from "../iam/app-roles.ts";
import { awsLocation } from "../iam/arn.ts";
import { artifactReadSessionPolicy } from "../iam/artifact-reader.ts";
import { deploySessionTags } from "../iam/customer-deploy-trust.ts";
import type { RoleDocuments } from "../iam/document.ts";
import { appNames, appScope, type AppNames } from "../iam/names.ts";
import { releaseSessionPolicy } from "../iam/phases.ts";
import type { DeploymentsConfig } from "./config.ts";
import type { ResolvedTarget } from "./ports.ts";

/**
 * The IAM documents the deployment workflow applies, each built by the IAM module (iam/) that the
 * policy simulator tests prove; nothing in deployments/ writes a policy of its own.
 */

/** The app's names for an execution's ids. */
export const deploymentAppNames = (ids: { org: string; appId: string }): AppNames => appNames(appScope({ org: ids.org, app: ids.appId }));

/** The build role PrepareBuild ensures: the app's build role in the platform's account. */
export const workflowBuildRole = (config: Pick<DeploymentsConfig, "region" | "accountId" | "artifactBucket" | "buildProject">, names: AppNames): RoleDocuments =>
  appBuildRole({
    location: awsLocation({ account: config.accountId, region: config.region }),
    scope: appScope(names),
    artifactBucket: config.artifactBucket,
    buildProject: config.buildProject,
  });

/** What ApplyRelease passes on AssumeRole of the target's deploy role: the release session policy (as JSON) and the session tags. */
export function releaseSession(input: { target: ResolvedTarget; names: AppNames; deploymentId: string }) {
  const { target, names } = input;
  const policy = releaseSessionPolicy({ target: awsLocation({ account: target.accountId, region: target.region }), scope: appScope(names) });
  return { policy: JSON.stringify(policy), tags: deploySessionTags({ org: names.org, app: names.app, deployment: input.deploymentId }) };
}

/**
 * What ApplyRelease passes on AssumeRole of the platform's artifact reader: the same session tags
 * (the role's policy reaches only the artifact they name) and a session policy naming the object.
 */
export function artifactReadSession(input: { config: Pick<DeploymentsConfig, "region" | "accountId">; names: AppNames; deploymentId: string; artifact: { bucket: string; key: string } }) {
  const { config, names, artifact } = input;
  if (!artifact.key.startsWith(names.artifactPrefix)) throw new Error(`artifact ${artifact.key} is not under ${names.artifactPrefix}`);
  const policy = artifactReadSessionPolicy(awsLocation({ account: config.accountId, region: config.region }), artifact);
  return { policy: JSON.stringify(policy), tags: deploySessionTags({ org: names.org, app: names.app, deployment: input.deploymentId }) };
}
