/**
 * The single table's shape, declared once: infra builds the cloud table from it and the offline
 * runtime creates the DynamoDB Local table from it.
 */
export const TABLE_SCHEMA = {
  partitionKey: "PK",
  sortKey: "SK",
  /** Expiring items (enrollment tokens, leases) carry epoch seconds here. */
  ttlAttribute: "expiresAt",
  /** The table's stream carries keys only: it tells the audit sequencer which records committed, in order. */
  streamView: "KEYS_ONLY",
  /**
   * Sparse global secondary indexes, all platform-level: the partition attribute holds one fixed
   * value, items project only their keys, and only the handle built for an index may query it.
   */
  indexes: {
    /** Apps by the age of their KEK: what the rotation job reads instead of scanning. */
    kekRotation: { name: "kek-rotation", partitionKey: "kekRotationIndex", partitionValue: "KEK", sortKey: "kekRotatedAt" },
    /**
     * Deployments that have not ended, by when they were queued: what the stuck-deployment sweep
     * reads. A deployment enters it when created and leaves it with its terminal transition.
     */
    activeDeployments: { name: "active-deployments", partitionKey: "activeDeploymentsIndex", partitionValue: "ACTIVE", sortKey: "activeSince" },
  },
} as const;

export const TABLE_INDEXES = Object.values(TABLE_SCHEMA.indexes);

/** Every attribute a key of the table or of one of its indexes is made of; all are strings. */
export const TABLE_KEY_ATTRIBUTES = [
  ...new Set([TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey, ...TABLE_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])]),
];
