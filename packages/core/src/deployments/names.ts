/**
 * Per-app names of everything a build or a deploy touches. Each IAM policy is scoped to these
 * names, so one app's build or deploy role cannot reach another app's artifacts, images, logs
 * or function (DESIGN.md, isolation layer 6). Org slugs and ids never contain `/` or `#`.
 */
export type AppNames = ReturnType<typeof appNames>;

export function appNames(org: string, appId: string) {
  return {
    org,
    appId,
    /** Object-store prefix of every artifact of the app; one deployment writes below `<prefix><deploymentId>/`. */
    artifactPrefix: `${org}/${appId}/`,
    artifactPath: (deploymentId: string) => `${org}/${appId}/${deploymentId}`,
    /** Where the app's source versions are uploaded: one folder per ref. */
    sourcePrefix: `${org}/${appId}/sources/`,
    imageRepository: `bulkhead/${org}/${appId}`,
    buildLogGroup: `/bulkhead/${org}/${appId}/build`,
    /** ≤ 64 characters: 4 + 32 (longest org) + 1 + 26. */
    buildRoleName: `bhb-${org}-${appId}`,
    /** The app's function in its target account: ≤ 64 characters. */
    functionName: `bh-${org}-${appId}`,
    functionAlias: "live",
  };
}

/** The artifact a build writes: always one ZIP, so its SHA-256 is the release's identity. */
export const ARTIFACT_NAME = "artifact.zip";

/** Splits CodeBuild's artifact location (`arn:aws:s3:::bucket/key`) into bucket and key. */
export function parseArtifactLocation(location: string): { bucket: string; key: string } | undefined {
  const match = /^arn:aws[a-z-]*:s3:::([^/]+)\/(.+)$/.exec(location);
  return match ? { bucket: match[1]!, key: match[2]! } : undefined;
}
