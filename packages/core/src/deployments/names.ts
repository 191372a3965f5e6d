import type { AppNames } from "../iam/names.ts";

/**
 * What a deployment adds to its app's names (iam/names.ts appNames, the one definition every
 * policy is scoped to): where one deployment's artifact goes, inside the app's artifact prefix.
 */

/** The artifact a build writes: always one ZIP, so its SHA-256 is the release's identity. */
export const ARTIFACT_NAME = "artifact.zip";

/** The folder one deployment's build writes its artifact to: `<org>/<app>/<deploymentId>`. */
export const artifactPath = (names: Pick<AppNames, "artifactPrefix">, deploymentId: string): string => `${names.artifactPrefix}${deploymentId}`;

/** The key of one deployment's artifact. */
export const artifactKey = (names: Pick<AppNames, "artifactPrefix">, deploymentId: string): string => `${artifactPath(names, deploymentId)}/${ARTIFACT_NAME}`;

/** Splits CodeBuild's artifact location (`arn:aws:s3:::bucket/key`) into bucket and key. */
export function parseArtifactLocation(location: string): { bucket: string; key: string } | undefined {
  const match = /^arn:aws[a-z-]*:s3:::([^/]+)\/(.+)$/.exec(location);
  return match ? { bucket: match[1]!, key: match[2]! } : undefined;
}
