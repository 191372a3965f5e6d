import type { MiddlewareStack } from "@smithy/types";
import { KeyScopeViolation } from "./errors.ts";
import { TABLE_KEYS } from "./keys.ts";
import { TABLE_SCHEMA } from "./table-schema.ts";

export type KeyScope = {
  /** Human-readable scope, for the violation message (never a secret). */
  readonly label: string;
  readonly tableName: string;
  readonly allows: (partition: string) => boolean;
  /** Platform indexes (by name) this scope may query; none unless named. */
  readonly indexes?: readonly string[];
};

type AttributeValue = { S?: string } | string | undefined;
type Item = Record<string, AttributeValue>;
type Input = Record<string, any>;

/** Each platform index's partition attribute and the one value it may hold; other indexes are refused. */
const PLATFORM_INDEXES: Record<string, { attribute: string; value: string }> = Object.fromEntries(
  Object.values(TABLE_SCHEMA.indexes).map((index) => [index.name, { attribute: index.partitionKey, value: index.partitionValue }]),
);
const INDEX_PARTITIONS = Object.values(PLATFORM_INDEXES);
const ALL_PARTITION_ATTRIBUTES = [TABLE_KEYS.partition, ...INDEX_PARTITIONS.map((index) => index.attribute)];

const stringOf = (value: AttributeValue): string | undefined =>
  typeof value === "string" ? value : value?.S;

/**
 * Checks one DynamoDB command against a scope. Accepts both marshalled (`{S: "…"}`) and native
 * values, so it holds whether it sits below a document client or a raw one. Anything it cannot
 * prove in scope is refused: unknown commands, Scan, PartiQL, unparseable key conditions.
 */
export function assertInScope(scope: KeyScope, command: string, input: Input): void {
  const refuse = (reason: string): never => {
    throw new KeyScopeViolation(command, `${reason} (scope ${scope.label})`);
  };
  const checkTable = (table: unknown) => {
    if (table !== scope.tableName) refuse("table outside scope");
  };
  const checkPartition = (value: AttributeValue, what: string) => {
    const partition = stringOf(value);
    if (partition === undefined || !scope.allows(partition)) refuse(`${what} outside scope`);
  };
  const checkKey = (key: Item | undefined) => checkPartition(key?.[TABLE_KEYS.partition], "key");
  /**
   * The item's partition must be in scope; a platform-index partition attribute, when present,
   * may only hold that index's one value (an item can join the index, never shape it).
   */
  const checkItem = (item: Item | undefined) => {
    if (!item) refuse("missing item");
    checkPartition(item![TABLE_KEYS.partition], `item ${TABLE_KEYS.partition}`);
    for (const index of INDEX_PARTITIONS) {
      const value = item![index.attribute];
      if (value !== undefined && stringOf(value) !== index.value) refuse(`item ${index.attribute} is not ${index.value}`);
    }
  };
  /** An update may not rewrite any partition attribute. */
  const checkUpdate = (update: Input) => {
    checkKey(update.Key);
    const names = Object.values(update.ExpressionAttributeNames ?? {}) as string[];
    const text = String(update.UpdateExpression ?? "");
    for (const attribute of ALL_PARTITION_ATTRIBUTES) {
      if (names.includes(attribute) || new RegExp(`\\b${attribute}\\b`).test(text)) {
        refuse(`update touches ${attribute}`);
      }
    }
  };

  switch (command) {
    case "GetItemCommand":
    case "DeleteItemCommand":
      checkTable(input.TableName);
      return checkKey(input.Key);
    case "PutItemCommand":
      checkTable(input.TableName);
      return checkItem(input.Item);
    case "UpdateItemCommand":
      checkTable(input.TableName);
      return checkUpdate(input);
    case "QueryCommand": {
      checkTable(input.TableName);
      if (input.IndexName !== undefined) {
        const index = PLATFORM_INDEXES[input.IndexName];
        if (!index || !scope.indexes?.includes(input.IndexName)) return refuse("index outside scope");
        if (input.ExclusiveStartKey && stringOf(input.ExclusiveStartKey[index.attribute]) !== index.value) refuse("start key outside index");
        if (stringOf(queryPartition(input, index.attribute)) !== index.value) refuse("key condition outside index");
        return;
      }
      if (input.ExclusiveStartKey) checkKey(input.ExclusiveStartKey);
      return checkPartition(queryPartition(input, TABLE_KEYS.partition) ?? undefined, "key condition");
    }
    case "BatchGetItemCommand":
      for (const [table, request] of Object.entries<Input>(input.RequestItems ?? {})) {
        checkTable(table);
        for (const key of request.Keys ?? []) checkKey(key);
      }
      return;
    case "BatchWriteItemCommand":
      for (const [table, requests] of Object.entries<Input[]>(input.RequestItems ?? {})) {
        checkTable(table);
        for (const request of requests) {
          if (request.PutRequest) checkItem(request.PutRequest.Item);
          else if (request.DeleteRequest) checkKey(request.DeleteRequest.Key);
          else refuse("unknown batch request");
        }
      }
      return;
    case "TransactWriteItemsCommand":
      for (const entry of input.TransactItems ?? []) {
        const [kind, operation] = Object.entries<Input>(entry)[0] ?? [];
        if (!operation) return refuse("empty transaction entry");
        checkTable(operation.TableName);
        if (kind === "Put") checkItem(operation.Item);
        else if (kind === "Update") checkUpdate(operation);
        else if (kind === "Delete" || kind === "ConditionCheck") checkKey(operation.Key);
        else refuse(`unknown transaction entry ${kind}`);
      }
      return;
    case "TransactGetItemsCommand":
      for (const entry of input.TransactItems ?? []) {
        checkTable(entry.Get?.TableName);
        checkKey(entry.Get?.Key);
      }
      return;
    default:
      return refuse("command not allowed");
  }
}

/**
 * The value a Query's key condition pins the partition attribute to, or undefined when the
 * condition does not contain exactly one plain `<name> = <:value>` clause for it.
 */
export function queryPartition(input: Input, attribute: string): AttributeValue {
  const expression = String(input.KeyConditionExpression ?? "");
  const names: Record<string, string> = input.ExpressionAttributeNames ?? {};
  const values: Record<string, AttributeValue> = input.ExpressionAttributeValues ?? {};
  const matches = expression
    .split(/\s+and\s+/i)
    .map((clause) => /^\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)\s*$/.exec(clause))
    .filter((m): m is RegExpExecArray => m !== null)
    .filter(([, name]) => (name!.startsWith("#") ? names[name!] : name) === attribute);
  if (matches.length !== 1) return undefined;
  return values[matches[0]![2]!];
}

/** Installs the guard on a client's stack, after marshalling and before anything is sent. */
export function installGuard(stack: MiddlewareStack<any, any>, scope: KeyScope): void {
  stack.add(
    (next, context) => async (args) => {
      assertInScope(scope, String(context.commandName), args.input as Input);
      return next(args);
    },
    { step: "build", priority: "high", name: "bulkheadKeyScopeGuard" },
  );
}
