import type { Condition, Statement } from "./document.ts";

export const ITEM_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"] as const;
export const ITEM_WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"] as const;

/** A partition and everything under it, but not a longer name sharing its prefix (`ORG#acme` vs `ORG#acme2`). */
export const partitionAndBelow = (partition: string): string[] => [partition, `${partition}#*`];

/**
 * Every partition key a request touches must match one of `patterns`. `ForAllValues` is true
 * when the request carries no key at all (a Scan, a PartiQL statement), so the key is also
 * required to be present.
 */
export function leadingKeys(patterns: readonly string[]): Condition {
  return {
    "ForAllValues:StringLike": { "dynamodb:LeadingKeys": patterns },
    Null: { "dynamodb:LeadingKeys": "false" },
  };
}

/** Scan reads across partitions; no identity of the platform may run one. */
export const denyScan = (tableArns: readonly string[]): Statement => ({
  Sid: "DenyScan",
  Effect: "Deny",
  Action: ["dynamodb:Scan"],
  Resource: tableArns,
});
