import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ensureStandInCheckpointKey } from "@bulkhead/core/audit/stand-in-signer";
import { linkCheckpointSigner, linkConsole, linkEnvironment, linkKeyStore, type Config } from "@bulkhead/core/config";
import { deploymentsLinkEnvironment } from "@bulkhead/core/deployments/config";
import { sweepStuckDeployments } from "@bulkhead/core/deployments/sweep";
import { runKeyRotation } from "@bulkhead/core/credentials/rotation/job";
import { keyStore } from "@bulkhead/core/key-stores/select-key-store";
import { logger } from "@bulkhead/core/log";
import { createOrg, readOrg } from "@bulkhead/core/orgs";
import { pendingAudit } from "@bulkhead/core/audit/chain";
import { orgRecord } from "@bulkhead/core/routes/orgs";
import type { SequencerOptions } from "@bulkhead/core/audit/sequencer";
import { startAuditStream } from "./audit-stream.ts";
import { ensureTable, LOCAL_AWS_ENV, localClient, startDynamoLocal } from "./dynamodb.ts";
import { consoleAssets } from "@bulkhead/console/build";
import { devConsoleSettings, devSignIn } from "./dev-sign-in.ts";
import { createGateway } from "./gateway.ts";
import { DEV_ISSUER, loadDevIssuer, type DevIssuer } from "./issuer.ts";
import { linkSources, SOURCE_UPLOAD_DEFAULTS, type SourcesConfig } from "@bulkhead/core/sources/config";
import { localObjectStore, serveObjectStore, type ObjectCreated } from "./standins/object-store.ts";
import { lambdaContext } from "./lambda-context.ts";
import {
  OFFLINE_ARTIFACT_BUCKET, OFFLINE_REGION, offlineDeploymentsConfig, startOfflineDeployments, type OfflineDeployments,
  type OfflineWorkflowOptions,
} from "./workflows/offline-deployments.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const BASE_DOMAIN = "localhost";
/** Offline stand-in for the platform's deployer role (no AWS account offline): only ever printed in trust policies. */
export const OFFLINE_DEPLOYER_ROLE_ARN = "arn:aws:iam::000000000000:role/bulkhead-deployer";
/** The handler of the artifact bucket's ObjectCreated notification for source ZIPs. */
export const SOURCE_UPLOADED_HANDLER = "functions/src/jobs/source-uploaded.ts";
export const SEED_ORGS = [{ slug: "acme", name: "Acme Corp" }, { slug: "globex", name: "Globex" }];
const SEED_ACTOR = { kind: "system", sub: "npm-start" } as const;

export type OfflineOptions = {
  /** Where the dev key, cursor key and (unless `memory`) DynamoDB's files live. */
  dataDir: string;
  /** Keep DynamoDB Local in memory: a throwaway store. */
  memory?: boolean;
  port?: number;
  /** Reuse a running DynamoDB Local instead of starting one. */
  dynamoEndpoint?: string;
  tableName?: string;
  /** The deployment workflows' offline knobs (tests shorten retries and build limits). */
  workflows?: OfflineWorkflowOptions;
  /** Tests only: called at each step of the audit sequencer, to crash it there. */
  auditFault?: SequencerOptions["fault"];
  /** Run the KEK-rotation job every this many milliseconds (the offline stand-in for its cron). */
  rotationIntervalMs?: number;
  /** Run the stuck-deployment sweep at start and every this many milliseconds (its cron's stand-in). */
  sweepIntervalMs?: number;
  /** Source uploads' size cap and form lifetime (default SOURCE_UPLOAD_DEFAULTS). */
  sourceUploads?: Partial<Pick<SourcesConfig, "maxBytes" | "uploadSeconds">>;
  /** The object store stand-in's loopback port; default: any free one. */
  objectStorePort?: number;
};

export type Offline = {
  url: string;
  dataDir: string;
  port: number;
  issuer: DevIssuer;
  config: Config;
  /** Where the offline stand-in key store keeps each app's KEK versions. */
  keyStoreDirectory: string;
  dynamoEndpoint: string;
  deployments: OfflineDeployments;
  /** Where the object store stand-in serves presigned POST forms. */
  objectStoreUrl: string;
  sources: SourcesConfig;
  stop: () => Promise<void>;
};

function persistentSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = randomBytes(32).toString("base64url");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** What `npm run rotate` needs to find a running `npm start` on the same data dir. */
export type RunningInstance = { pid: number; url: string; dynamoEndpoint: string; tableName: string; keyStoreDirectory: string };
export const runningFile = (dataDir: string) => join(resolve(dataDir), "running.json");

/** The instance `npm start` recorded in `dataDir`, if its process is still alive. */
export function findRunningInstance(dataDir: string): RunningInstance | undefined {
  try {
    const running = JSON.parse(readFileSync(runningFile(dataDir), "utf8")) as RunningInstance;
    process.kill(running.pid, 0);
    return running;
  } catch {
    return undefined;
  }
}

/**
 * Exports the `SST_RESOURCE_*` variables (and the local AWS settings) a deployed function would
 * see, pointing at this machine's DynamoDB Local and key store stand-in. Returns the config.
 */
export function linkOffline(options: {
  dataDir: string; tableName: string; dynamoEndpoint: string; keyStoreDirectory: string; port: number; sources?: SourcesConfig;
}) {
  const config: Config = {
    tableName: options.tableName,
    baseDomain: BASE_DOMAIN,
    auth: { ...DEV_ISSUER, jwksUri: `http://localhost:${options.port}/.well-known/jwks.json` },
    cursorKey: persistentSecret(join(options.dataDir, "cursor-key")),
    deployerRoleArn: OFFLINE_DEPLOYER_ROLE_ARN,
  };
  // Stand-in for the KMS checkpoint key (see audit/stand-in-signer.ts).
  const checkpointKeyFile = join(options.dataDir, "audit-checkpoint-key.pem");
  ensureStandInCheckpointKey(checkpointKeyFile);
  const deploymentsConfig = offlineDeploymentsConfig(persistentSecret(join(options.dataDir, "hosted-target-external-id")));
  Object.assign(
    process.env,
    LOCAL_AWS_ENV,
    { AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint },
    linkEnvironment(config),
    linkKeyStore({ kind: "offline-stand-in", directory: options.keyStoreDirectory }),
    linkCheckpointSigner({ kind: "stand-in-ed25519", keyFile: checkpointKeyFile }),
    deploymentsLinkEnvironment(deploymentsConfig),
    linkConsole(devConsoleSettings(options.port)),
    options.sources ? linkSources(options.sources) : {},
  );
  return { config, deploymentsConfig };
}

/**
 * The offline stand-in for the bucket's event notification: the same handler the cloud's
 * ObjectCreated notification invokes, with the S3 event it would receive (keys URL-encoded).
 */
async function notifySourceUploaded(created: ObjectCreated): Promise<void> {
  const { handler } = await import(pathToFileURL(join(REPO_ROOT, SOURCE_UPLOADED_HANDLER)).href);
  await handler({
    Records: [{
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: OFFLINE_REGION,
      eventTime: new Date().toISOString(),
      eventName: "ObjectCreated:Post",
      responseElements: { "x-amz-request-id": created.requestId, "x-amz-id-2": created.requestId },
      s3: {
        s3SchemaVersion: "1.0",
        bucket: { name: created.bucket, arn: `arn:aws:s3:::${created.bucket}` },
        object: { key: encodeURIComponent(created.key).replaceAll("%2F", "/"), size: created.size, eTag: created.eTag.replaceAll('"', "") },
      },
    }],
  }, lambdaContext("bulkhead-offline-source-uploaded", created.requestId));
}

/**
 * The offline stand-in for a job's cron: one run at a time, every `intervalMs` (and once at the
 * start when `now`). Returns the stop function, which waits for a run in progress.
 */
function schedule(what: string, intervalMs: number, job: () => Promise<unknown>, options: { now?: boolean } = {}) {
  let running: Promise<unknown> | undefined;
  const run = () => {
    running ??= job()
      .catch((error) => logger.error(`scheduled ${what} failed`, { error: error as Error }))
      .finally(() => (running = undefined));
  };
  if (options.now) run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/**
 * Everything `npm start` runs, with no AWS account, Docker or network: DynamoDB Local, the dev
 * OIDC issuer, and the gateway serving the route table through the real handlers. It exports the
 * same `SST_RESOURCE_*` variables a deployed function sees, so config is read one way everywhere.
 */
export async function startOffline(options: OfflineOptions): Promise<Offline> {
  const dataDir = resolve(options.dataDir);
  const dynamo = options.dynamoEndpoint
    ? { endpoint: options.dynamoEndpoint, stop: async () => undefined }
    : await startDynamoLocal({ dataDir: options.memory ? undefined : join(dataDir, "dynamodb") });
  const tableName = options.tableName ?? "bulkhead";
  await ensureTable(localClient(dynamo.endpoint), tableName);

  const issuer = loadDevIssuer(dataDir);
  // The console is built on first start (and again when its sources change), before any request.
  process.env.BULKHEAD_CONSOLE_ASSETS = await consoleAssets();
  const server = createGateway({ root: REPO_ROOT, baseDomain: BASE_DOMAIN, jwks: issuer.jwks, signIn: devSignIn(issuer, BASE_DOMAIN) });
  await new Promise<void>((ready, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 4000, "127.0.0.1", ready);
  });
  const port = (server.address() as AddressInfo).port;

  // The key store stand-in lives beside DynamoDB's files; a throwaway store gets throwaway keys.
  const keyStoreDirectory = options.memory ? mkdtempSync(join(tmpdir(), "bulkhead-keystore-")) : join(dataDir, "keystore");
  // The object store's HTTP face: presigned source uploads land where the build stand-in reads them.
  const objectStore = await serveObjectStore({
    store: localObjectStore(join(dataDir, "objects")),
    buckets: [OFFLINE_ARTIFACT_BUCKET],
    region: OFFLINE_REGION,
    credentials: { [LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID]: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
    port: options.objectStorePort,
    onObjectCreated: notifySourceUploaded,
  });
  const sources: SourcesConfig = {
    bucket: OFFLINE_ARTIFACT_BUCKET, region: OFFLINE_REGION, ...SOURCE_UPLOAD_DEFAULTS, ...options.sourceUploads, endpoint: objectStore.url,
  };
  const { config, deploymentsConfig } = linkOffline({ dataDir, tableName, dynamoEndpoint: dynamo.endpoint, keyStoreDirectory, port, sources });
  const deployments = await startOfflineDeployments({
    root: REPO_ROOT, dataDir, config: deploymentsConfig, deployerRoleArn: OFFLINE_DEPLOYER_ROLE_ARN, ...options.workflows,
  });

  // The audit sequencer's feed, as the event source mapping is in the cloud: started before
  // anything is written, so no request path ever sequences its own record.
  const auditStream = await startAuditStream({ endpoint: dynamo.endpoint, tableName, fault: options.auditFault });

  // The demo orgs are registered as any org is: with their record, by the offline stack itself.
  for (const org of SEED_ORGS) {
    if (!(await readOrg(org.slug))) await createOrg(org, pendingAudit({ actor: SEED_ACTOR, action: "orgs.create", requestId: "npm-start" }, undefined, orgRecord));
  }

  const running: RunningInstance = { pid: process.pid, url: `http://localhost:${port}`, dynamoEndpoint: dynamo.endpoint, tableName, keyStoreDirectory };
  writeFileSync(runningFile(dataDir), JSON.stringify(running), { mode: 0o600 });
  const stopRotation = options.rotationIntervalMs ? schedule("KEK rotation", options.rotationIntervalMs, () => runKeyRotation(keyStore())) : async () => undefined;
  // The deployment sweep runs at start too: executions do not outlive the process that ran them.
  const stopSweep = options.sweepIntervalMs
    ? schedule("deployment sweep", options.sweepIntervalMs, () => sweepStuckDeployments({ definition: deployments.definition }), { now: true })
    : async () => undefined;

  return {
    url: `http://localhost:${port}`,
    dataDir,
    port,
    issuer,
    config,
    keyStoreDirectory,
    dynamoEndpoint: dynamo.endpoint,
    deployments,
    objectStoreUrl: objectStore.url,
    sources,
    stop: async () => {
      await stopRotation();
      await stopSweep();
      if (findRunningInstance(dataDir)?.pid === process.pid) rmSync(runningFile(dataDir), { force: true });
      await new Promise((done) => server.close(done));
      server.closeAllConnections();
      await objectStore.close();
      await deployments.stop();
      await auditStream.stop();
      await dynamo.stop();
    },
  };
}
