import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { inject } from "vitest";
import type { MemberRole, PlatformRole } from "../../packages/core/src/auth/principal.ts";
import { localClient } from "../../packages/local/src/dynamodb.ts";
import { startOffline, type Offline } from "../../packages/local/src/runtime.ts";
import type { OfflineWorkflowOptions } from "../../packages/local/src/workflows/offline-deployments.ts";

export type Reply = { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any };

export type CallOptions = {
  token?: string;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
};

/** A running offline stack on its own table, and a client that speaks to it by hostname. */
export type TestApi = Awaited<ReturnType<typeof startTestApi>>;

/**
 * Workflows run with the production definition; offline only the pauses shrink: retries wait a
 * few ms and each test's build sandboxes live in a directory of their own.
 */
export async function startTestApi(options: { workflows?: OfflineWorkflowOptions } = {}) {
  const sandboxRoot = mkdtempSync(join(tmpdir(), "bulkhead-sandboxes-"));
  const offline: Offline = await startOffline({
    dataDir: mkdtempSync(join(tmpdir(), "bulkhead-test-")),
    dynamoEndpoint: inject("dynamoEndpoint"),
    tableName: `t-${randomUUID()}`,
    port: 0,
    workflows: { retryDelayMs: 5, sandboxRoot, ...options.workflows },
  });
  const raw = localClient(offline.dynamoEndpoint);
  const db = DynamoDBDocumentClient.from(raw);

  const call = (host: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { host: `${host}:${offline.port}`, ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | Buffer | undefined = options.rawBody;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: offline.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.on("error", reject);
      req.end(payload);
    });
  };

  const mint = offline.issuer.mint;
  const tokens = {
    member: (org: string, role: MemberRole = "owner", sub = `${role}-of-${org}`) => mint({ sub, org, role }),
    platform: (role: PlatformRole = "platform-admin", sub = "ops") => mint({ sub, platform: true, role }),
    runtime: (org: string, app: string, sub = `runtime-${app}`) => mint({ sub, org, app, role: "runtime" }),
  };

  /** Every item in the test's table, read with a raw client (tests only; never in product code). */
  const dumpTable = async (): Promise<Record<string, any>[]> => {
    const items: Record<string, any>[] = [];
    let start: Record<string, any> | undefined;
    do {
      const page = await raw.send(new ScanCommand({ TableName: offline.config.tableName, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  };

  const partition = async (pk: string) =>
    (await db.send(new QueryCommand({
      TableName: offline.config.tableName,
      KeyConditionExpression: "PK = :pk",
      ExpressionAttributeValues: { ":pk": pk },
    }))).Items ?? [];

  return {
    offline,
    call,
    tokens,
    dumpTable,
    partition,
    sandboxRoot,
    orgHost: (org: string) => `${org}.localhost`,
    platformHost: "localhost",
    stop: async () => {
      await offline.stop();
      rmSync(sandboxRoot, { recursive: true, force: true });
    },
  };
}
