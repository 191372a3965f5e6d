/**
 * The single table's shape, declared once: infra builds the cloud table from it and the offline
 * runtime creates the DynamoDB Local table from it.
 */
export const TABLE_SCHEMA = {
  partitionKey: "PK",
  sortKey: "SK",
  /** Expiring items (enrollment tokens, leases) carry epoch seconds here. */
  ttlAttribute: "expiresAt",
} as const;
