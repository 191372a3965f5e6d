import { TABLE_INDEXES, TABLE_KEY_ATTRIBUTES, TABLE_SCHEMA } from "../packages/core/src/data/table-schema.ts";
import { artifactBucketPolicy } from "../packages/core/src/iam/platform.ts";
import type { Stage } from "./stage.ts";

/**
 * The single table and the artifact bucket. Linking either would grant `dynamodb:*` / `s3:*`
 * (SST's default link permissions), so their links carry names only and every grant comes from
 * packages/core/src/iam.
 */
export function storage(stage: Stage) {
  sst.Linkable.wrap(sst.aws.Dynamo, (table) => ({ properties: { name: table.name } }));
  sst.Linkable.wrap(sst.aws.Bucket, (bucket) => ({ properties: { name: bucket.name } }));

  const table = new sst.aws.Dynamo("Table", {
    fields: Object.fromEntries(TABLE_KEY_ATTRIBUTES.map((attribute) => [attribute, "string"])),
    primaryIndex: { hashKey: TABLE_SCHEMA.partitionKey, rangeKey: TABLE_SCHEMA.sortKey },
    // Sparse and keys-only: an item is in an index only while it carries the index's attributes.
    globalIndexes: Object.fromEntries(TABLE_INDEXES.map((index) => [index.name, { hashKey: index.partitionKey, rangeKey: index.sortKey, projection: "keys-only" }])),
    ttl: TABLE_SCHEMA.ttlAttribute,
    // The audit sequencer's feed (infra/audit.ts): which records committed, in order.
    stream: TABLE_SCHEMA.streamView === "KEYS_ONLY" ? "keys-only" : "new-image",
    deletionProtection: true,
    transform: {
      table: (args) => {
        // A fixed name, so the IAM documents can be generated and reviewed before deploy.
        args.name = stage.platform.table;
        // SST enables it today; stated here so a default change cannot turn it off.
        args.pointInTimeRecovery = { enabled: true };
      },
    },
  });

  const artifacts = new sst.aws.Bucket("Artifacts", {
    versioning: true,
    enforceHttps: true,
    transform: {
      bucket: (args) => {
        args.bucket = stage.platform.artifactBucket;
        args.forceDestroy = false;
      },
      publicAccessBlock: (args) => {
        args.blockPublicAcls = true;
        args.blockPublicPolicy = true;
        args.ignorePublicAcls = true;
        args.restrictPublicBuckets = true;
      },
      policy: (args) => {
        args.policy = JSON.stringify(artifactBucketPolicy(stage.location, stage.platform.artifactBucket));
      },
    },
  });

  return { table, artifacts };
}

export type Storage = ReturnType<typeof storage>;
