import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import type { SourcesConfig } from "./config.ts";

/** An S3 POST form for exactly one key; the bytes S3 accepts are bounded and named by their SHA-256. */
export type UploadForm = { url: string; fields: Record<string, string>; expiresAt: string };

let client: S3Client | undefined;

function s3(config: SourcesConfig): S3Client {
  client ??= new S3Client({
    region: config.region,
    ...(config.endpoint && { endpoint: config.endpoint, forcePathStyle: true }),
  });
  return client;
}

/**
 * Signs an S3 POST policy: the key is fixed (`eq`, not `starts-with`), the size is within
 * 1..maxBytes, and the checksum is required and fixed, so S3 refuses any other bytes
 * (BadDigest) and any other key, size or extra field (AccessDenied, EntityTooLarge). The policy
 * is signed locally with the function's credentials; S3 checks it against their rights, which
 * admit only keys under an app's source prefix (iam/platform.ts).
 */
export async function presignSourceUpload(
  config: SourcesConfig,
  input: { key: string; sha256Hex: string },
  now = new Date(),
): Promise<UploadForm> {
  const { url, fields } = await createPresignedPost(s3(config), {
    Bucket: config.bucket,
    Key: input.key,
    Conditions: [["content-length-range", 1, config.maxBytes]],
    Fields: {
      "x-amz-checksum-algorithm": "SHA256",
      "x-amz-checksum-sha256": Buffer.from(input.sha256Hex, "hex").toString("base64"),
    },
    Expires: config.uploadSeconds,
  });
  return { url, fields, expiresAt: new Date(now.getTime() + config.uploadSeconds * 1000).toISOString() };
}
