import { DynamoDBClient, GetItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyScopeViolation } from "../packages/core/src/data/errors.ts";
import { assertInScope, installGuard, type KeyScope } from "../packages/core/src/data/guard.ts";
import { appPartition, isOrgPartition, keys, orgPartition } from "../packages/core/src/data/keys.ts";
import { isOrgSlug } from "../packages/core/src/ids.ts";

const TABLE = "bulkhead";
const scopeOf = (org: string): KeyScope => ({ label: org, tableName: TABLE, allows: (pk) => isOrgPartition(org, pk) });
const slug = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])$/).filter(isOrgSlug);
/** Pairs of distinct orgs, biased towards the dangerous ones: one a prefix of the other. */
const orgPair = fc.oneof(
  fc.tuple(slug, slug).filter(([a, b]) => a !== b),
  fc.tuple(slug, fc.stringMatching(/^[a-z0-9-]{1,6}$/)).map(([a, tail]) => [a, `${a}${tail}`.replace(/-+$/, "") + "x"] as [string, string]).filter(([a, b]) => isOrgSlug(b) && a !== b),
);

const S = (value: string) => ({ S: value });

/** Every command shape the guard knows, aimed at partition `pk`. */
function commands(pk: string, sk = "APP#x"): [string, Record<string, any>][] {
  const key = { PK: S(pk), SK: S(sk) };
  return [
    ["GetItemCommand", { TableName: TABLE, Key: key }],
    ["DeleteItemCommand", { TableName: TABLE, Key: key }],
    ["PutItemCommand", { TableName: TABLE, Item: { ...key, name: S("n") } }],
    ["UpdateItemCommand", { TableName: TABLE, Key: key, UpdateExpression: "SET #n = :n", ExpressionAttributeNames: { "#n": "name" }, ExpressionAttributeValues: { ":n": S("v") } }],
    ["QueryCommand", { TableName: TABLE, KeyConditionExpression: "PK = :pk AND begins_with(SK, :p)", ExpressionAttributeValues: { ":pk": S(pk), ":p": S("APP#") } }],
    ["QueryCommand", { TableName: TABLE, KeyConditionExpression: "#p = :v", ExpressionAttributeNames: { "#p": "PK" }, ExpressionAttributeValues: { ":v": S(pk) } }],
    // An app listing's Query (packages/core/src/apps/listing.ts): its BETWEEN holds one more AND than the partition clause.
    ["QueryCommand", { TableName: TABLE, KeyConditionExpression: "PK = :pk AND SK BETWEEN :from AND :to", ExpressionAttributeValues: { ":pk": S(pk), ":from": S("CRED"), ":to": S("CRED$") } }],
    ["BatchGetItemCommand", { RequestItems: { [TABLE]: { Keys: [key] } } }],
    ["BatchWriteItemCommand", { RequestItems: { [TABLE]: [{ PutRequest: { Item: key } }] } }],
    ["BatchWriteItemCommand", { RequestItems: { [TABLE]: [{ DeleteRequest: { Key: key } }] } }],
    ["TransactWriteItemsCommand", { TransactItems: [{ Put: { TableName: TABLE, Item: key } }] }],
    ["TransactWriteItemsCommand", { TransactItems: [{ Update: { TableName: TABLE, Key: key, UpdateExpression: "SET a = :a", ExpressionAttributeValues: { ":a": S("1") } } }] }],
    ["TransactWriteItemsCommand", { TransactItems: [{ Delete: { TableName: TABLE, Key: key } }] }],
    ["TransactWriteItemsCommand", { TransactItems: [{ ConditionCheck: { TableName: TABLE, Key: key, ConditionExpression: "attribute_exists(PK)" } }] }],
    ["TransactGetItemsCommand", { TransactItems: [{ Get: { TableName: TABLE, Key: key } }] }],
  ];
}

describe("the key-scope guard", () => {
  it("allows every command on the org's own partitions", () => {
    fc.assert(fc.property(slug, fc.stringMatching(/^[a-z2-7]{26}$/), (org, app) => {
      for (const pk of [orgPartition(org), appPartition(org, app)]) {
        for (const [name, input] of commands(pk)) expect(() => assertInScope(scopeOf(org), name, input)).not.toThrow();
      }
    }));
  });

  it("refuses every command on another org's partitions, including prefix pairs like acme/acme2", () => {
    fc.assert(fc.property(orgPair, fc.stringMatching(/^[a-z2-7]{26}$/), ([mine, theirs], app) => {
      for (const pk of [orgPartition(theirs), appPartition(theirs, app), keys.orgRecord(theirs).PK, `${orgPartition(mine)}x`]) {
        for (const [name, input] of commands(pk)) {
          expect(() => assertInScope(scopeOf(mine), name, input), `${name} ${pk}`).toThrow(KeyScopeViolation);
        }
      }
    }));
  });

  it("refuses a batch or transaction that mixes one foreign key among own keys", () => {
    fc.assert(fc.property(orgPair, ([mine, theirs]) => {
      const own = { PK: S(orgPartition(mine)), SK: S("A") };
      const foreign = { PK: S(orgPartition(theirs)), SK: S("B") };
      expect(() => assertInScope(scopeOf(mine), "TransactWriteItemsCommand", {
        TransactItems: [{ Put: { TableName: TABLE, Item: own } }, { Delete: { TableName: TABLE, Key: foreign } }],
      })).toThrow(KeyScopeViolation);
      expect(() => assertInScope(scopeOf(mine), "BatchGetItemCommand", { RequestItems: { [TABLE]: { Keys: [own, foreign] } } })).toThrow(KeyScopeViolation);
    }));
  });

  it.each([
    ["Scan", "ScanCommand", { TableName: TABLE }],
    ["PartiQL", "ExecuteStatementCommand", { Statement: "SELECT * FROM bulkhead" }],
    ["PartiQL transaction", "ExecuteTransactionCommand", { TransactStatements: [] }],
    ["table admin", "DeleteTableCommand", { TableName: TABLE }],
    ["another table", "GetItemCommand", { TableName: "other", Key: { PK: S("ORG#acme"), SK: S("x") } }],
    ["a key without PK", "GetItemCommand", { TableName: TABLE, Key: { SK: S("x") } }],
    ["a non-string PK", "GetItemCommand", { TableName: TABLE, Key: { PK: { N: "1" }, SK: S("x") } }],
    ["a parenthesised key condition", "QueryCommand", { TableName: TABLE, KeyConditionExpression: "(PK = :pk)", ExpressionAttributeValues: { ":pk": S("ORG#acme") } }],
    ["a key condition on the sort key only", "QueryCommand", { TableName: TABLE, KeyConditionExpression: "SK = :sk", ExpressionAttributeValues: { ":sk": S("ORG#acme") } }],
    ["two partition clauses", "QueryCommand", { TableName: TABLE, KeyConditionExpression: "PK = :a AND PK = :b", ExpressionAttributeValues: { ":a": S("ORG#acme"), ":b": S("ORG#globex") } }],
    ["a query on an unknown index", "QueryCommand", { TableName: TABLE, IndexName: "GSI9", KeyConditionExpression: "PK = :pk", ExpressionAttributeValues: { ":pk": S("ORG#acme") } }],
    ["a foreign ExclusiveStartKey", "QueryCommand", { TableName: TABLE, KeyConditionExpression: "PK = :pk", ExpressionAttributeValues: { ":pk": S("ORG#acme") }, ExclusiveStartKey: { PK: S("ORG#globex"), SK: S("x") } }],
    ["an update rewriting PK", "UpdateItemCommand", { TableName: TABLE, Key: { PK: S("ORG#acme"), SK: S("x") }, UpdateExpression: "SET PK = :p", ExpressionAttributeValues: { ":p": S("ORG#globex") } }],
    ["an update rewriting PK by alias", "UpdateItemCommand", { TableName: TABLE, Key: { PK: S("ORG#acme"), SK: S("x") }, UpdateExpression: "SET #k = :p", ExpressionAttributeNames: { "#k": "PK" }, ExpressionAttributeValues: { ":p": S("ORG#globex") } }],
  ])("refuses %s", (_name, command, input) => {
    expect(() => assertInScope(scopeOf("acme"), command, input)).toThrow(KeyScopeViolation);
  });

  it("stops a raw SDK command before it is sent", async () => {
    const client = new DynamoDBClient({ region: "us-east-1", endpoint: "http://127.0.0.1:9", credentials: { accessKeyId: "x", secretAccessKey: "x" }, maxAttempts: 1 });
    installGuard(client.middlewareStack, scopeOf("acme"));
    await expect(client.send(new GetItemCommand({ TableName: TABLE, Key: { PK: S("ORG#acme2"), SK: S("x") } }))).rejects.toThrow(KeyScopeViolation);
    await expect(client.send(new ScanCommand({ TableName: TABLE }))).rejects.toThrow(KeyScopeViolation);
    // Own keys pass the guard and only then fail on the unreachable endpoint.
    await expect(client.send(new GetItemCommand({ TableName: TABLE, Key: { PK: S("ORG#acme"), SK: S("x") } }))).rejects.not.toThrow(KeyScopeViolation);
  });
});

describe("the key-scope guard and the platform KEK-rotation index", () => {
  const index = "kek-rotation";
  const indexScope: KeyScope = { label: "index", tableName: TABLE, allows: () => false, indexes: [index] };
  const onIndex = (value: string, extra: Record<string, unknown> = {}) => ({
    TableName: TABLE, IndexName: index, KeyConditionExpression: "#p = :p AND #s <= :cut",
    ExpressionAttributeNames: { "#p": "kekRotationIndex", "#s": "kekRotatedAt" },
    ExpressionAttributeValues: { ":p": S(value), ":cut": S("2030-01-01") }, ...extra,
  });

  it("lets only the index's own handle query it, and only on its one partition value", () => {
    expect(() => assertInScope(indexScope, "QueryCommand", onIndex("KEK"))).not.toThrow();
    expect(() => assertInScope(indexScope, "QueryCommand", onIndex("KEK", { ExclusiveStartKey: { kekRotationIndex: S("KEK"), kekRotatedAt: S("x"), PK: S("ORG#acme"), SK: S("APP#x") } }))).not.toThrow();
    for (const [scope, input] of [
      [scopeOf("acme"), onIndex("KEK")],
      [indexScope, onIndex("ORG#acme")],
      [indexScope, onIndex("KEK", { ExclusiveStartKey: { kekRotationIndex: S("OTHER"), PK: S("ORG#acme"), SK: S("APP#x") } })],
      [indexScope, { ...onIndex("KEK"), KeyConditionExpression: "#s <= :cut" }],
    ] as const) {
      expect(() => assertInScope(scope, "QueryCommand", input)).toThrow(KeyScopeViolation);
    }
  });

  it("gives the index's handle no table partition at all", () => {
    fc.assert(fc.property(slug, (org) => {
      for (const [name, input] of commands(orgPartition(org))) expect(() => assertInScope(indexScope, name, input), name).toThrow(KeyScopeViolation);
      for (const [name, input] of commands(keys.orgRecord(org).PK)) expect(() => assertInScope(indexScope, name, input), name).toThrow(KeyScopeViolation);
    }));
  });

  it("lets a tenant item join the index with its one value, never set another or rewrite it", () => {
    const item = (value: string) => ({ TableName: TABLE, Item: { PK: S("ORG#acme"), SK: S("APP#x"), kekRotationIndex: S(value), kekRotatedAt: S("2025") } });
    expect(() => assertInScope(scopeOf("acme"), "PutItemCommand", item("KEK"))).not.toThrow();
    expect(() => assertInScope(scopeOf("acme"), "PutItemCommand", item("ORG#globex"))).toThrow(KeyScopeViolation);
    expect(() => assertInScope(scopeOf("acme"), "UpdateItemCommand", {
      TableName: TABLE, Key: { PK: S("ORG#acme"), SK: S("APP#x") }, UpdateExpression: "SET kekRotationIndex = :v", ExpressionAttributeValues: { ":v": S("X") },
    })).toThrow(KeyScopeViolation);
    expect(() => assertInScope(scopeOf("acme"), "UpdateItemCommand", {
      TableName: TABLE, Key: { PK: S("ORG#acme"), SK: S("APP#x") }, UpdateExpression: "SET kekRotatedAt = :v", ExpressionAttributeValues: { ":v": S("2026") },
    })).not.toThrow();
  });
});
