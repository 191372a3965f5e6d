import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { ArtifactReaderPort, TemporaryCredentials } from "../ports.ts";

/**
 * Reads a release's artifact from the platform's bucket with the artifact reader's session
 * (iam/artifact-reader.ts). The bucket must belong to the platform's account (ExpectedBucketOwner),
 * and an object over the limit is refused by its length before any of its body is read.
 */
export function s3Artifacts(clientFor = (region: string, credentials: TemporaryCredentials) =>
  new S3Client({ region, credentials })): ArtifactReaderPort {
  return {
    async read({ bucket, key, accountId, region, credentials, maxBytes }) {
      const client = clientFor(region, credentials);
      try {
        const { Body, ContentLength } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ExpectedBucketOwner: accountId }));
        if (!Body) throw new Error("S3 returned no body for the artifact");
        if (ContentLength !== undefined && ContentLength > maxBytes) {
          (Body as { destroy?: () => void }).destroy?.();
          return { size: ContentLength };
        }
        const bytes = await Body.transformToByteArray();
        return bytes.length > maxBytes ? { size: bytes.length } : { size: bytes.length, bytes };
      } finally {
        client.destroy();
      }
    },
  };
}
