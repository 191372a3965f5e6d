import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROTATION_DEFAULTS } from "../packages/core/src/config.ts";
import { TABLE_SCHEMA } from "../packages/core/src/data/table-schema.ts";
import { arn, awsLocation } from "../packages/core/src/iam/arn.ts";
import type { PolicyDocument } from "../packages/core/src/iam/document.ts";
import { platformNames } from "../packages/core/src/iam/names.ts";
import { AUDIT_SEQUENCER_JOB, DEPLOYMENT_SWEEP_JOB, KEK_ROTATION_JOB, SOURCE_UPLOADED_JOB } from "../packages/core/src/iam/jobs.ts";
import { AUDIT_RECORD_FILTER, matchesFilter } from "../packages/core/src/audit/stream.ts";
import { deployedWorkflowTimeoutSeconds } from "../packages/core/src/deployments/sweep.ts";
import { functionAccess } from "../packages/core/src/iam/platform.ts";
import { SOURCE_UPLOAD_DEFAULTS } from "../packages/core/src/sources/config.ts";
import { artifactReaderRole } from "../packages/core/src/iam/artifact-reader.ts";
import { hostedDeployRoleName } from "../packages/core/src/iam/deploy.ts";
import { handlerFile, routes } from "../packages/core/src/routes/index.ts";
import { stateMachines } from "../packages/core/src/workflows/machines.ts";
import { PRODUCTION_WORKFLOW_OPTIONS } from "../packages/core/src/workflows/options.ts";
import { taskFile, tasks, type TaskResources } from "../packages/core/src/workflows/tasks.ts";
import { CONSOLE_BUNDLE_DIR, CONSOLE_HANDLER_FILE, CONSOLE_ROUTES } from "../packages/console/src/settings.ts";
import { CONSOLE_FUNCTION_ID } from "../packages/core/src/iam/platform.ts";
import { handlerBundle } from "./support/bundle-links.ts";
import { decide, unknownActions, unneededStarResources, wildcardAllows } from "./support/iam.ts";
import { STAGE_SECRETS, stageNameProblem } from "../packages/core/src/stage-settings.ts";
import { deployCommands, section, setupGaps } from "./support/deploy-steps.ts";
import { applyTransform, createStandIns, resolved, sourcesIn, type Record_, type StandIns } from "./support/sst-stand-ins.ts";

/**
 * sst.config.ts and infra/, run offline against recording stand-ins of SST's globals: what they
 * declare is checked against the route table, the handlers on disk and the IAM module.
 */
const ROOT = join(import.meta.dirname, "..");
const STAGE = "ci";
const ACCOUNT = "123456789012";
const REGION = "eu-central-1";
const ENV = {
  BULKHEAD_BASE_DOMAIN: "Example.TEST",
  BULKHEAD_AUTH_ISSUER: "https://id.example.test/",
  BULKHEAD_AUTH_AUDIENCE: "bulkhead-api",
  BULKHEAD_AUTH_JWKS_URI: "https://id.example.test/.well-known/jwks.json",
  BULKHEAD_THROTTLE_RATE: "150",
  BULKHEAD_SOURCE_MAX_BYTES: "52428800",
  BULKHEAD_CONSOLE_CLIENT_ID: "bulkhead-console",
  BULKHEAD_AUTH_AUTHORIZATION_ENDPOINT: "https://id.example.test/authorize",
  BULKHEAD_AUTH_TOKEN_ENDPOINT: "https://id.example.test/oauth/token",
};
const location = awsLocation({ account: ACCOUNT, region: REGION });
const platform = platformNames({ stage: STAGE, account: ACCOUNT, region: REGION });

type Declared = {
  standIns: StandIns;
  outputs: Record<string, unknown>;
  /** What `app()` returned for the stage. */
  app: Record<string, unknown>;
  /** Runs a recorded transform as SST would: later, with SST's globals in scope. */
  transform: <T extends object>(transform: unknown, args: T) => T;
  /** The same, with the outputs left in (they tell what the result waits for). */
  rawTransform: <T extends object>(transform: unknown, args: T) => T;
};

type DeclareOptions = { dev?: boolean; env?: Record<string, string | undefined>; stage?: string; region?: string };

async function declare(options: DeclareOptions = {}): Promise<Declared> {
  const saved = { ...process.env };
  Object.assign(process.env, ENV, options.env);
  for (const [key, value] of Object.entries(options.env ?? {})) if (value === undefined) delete process.env[key];
  const stage = options.stage ?? STAGE;
  const standIns = createStandIns({ stage, dev: options.dev ?? false, account: ACCOUNT, region: options.region ?? REGION });
  standIns.install();
  try {
    const config = (await import(pathToFileURL(join(ROOT, "sst.config.ts")).href)).default;
    const app = config.app({ stage });
    expect(app).toMatchObject({ name: "bulkhead", home: "aws" });
    const outputs = await config.run();
    const rawTransform = <T extends object>(fn: unknown, args: T): T => {
      standIns.install();
      try {
        return applyTransform(fn, args);
      } finally {
        standIns.uninstall();
      }
    };
    const transform = <T extends object>(fn: unknown, args: T): T => resolved(rawTransform(fn, args));
    return { standIns, outputs, app, transform, rawTransform };
  } finally {
    standIns.uninstall();
    process.env = saved;
  }
}

/** The role SST would create for a function, then the function's own transform applied to it. */
function functionRoleArgs(fn: { args: any }, run: Declared = declared) {
  return run.transform(fn.args.transform.role, sstRoleDefaults(run.standIns.partition)) as any;
}

/** What SST puts in a function's role before the function's own transform runs. */
const sstRoleDefaults = (partition: string) => ({
  assumeRolePolicy: '{"sst":"lambda trust"}',
  inlinePolicies: [{ name: "inline", policy: '{"sst":"link permissions"}' }],
  managedPolicyArns: [`arn:${partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`],
});

const policiesOf = (roleArgs: any): PolicyDocument[] => roleArgs.inlinePolicies.map((p: any) => JSON.parse(p.policy));

let declared: Declared;
beforeAll(async () => {
  declared = await declare();
});

const routeFunctionNames = () => new Set(routes.map((r) => platform.functionName(r.id)));

describe("the route table in infra", () => {
  const functions = () => declared.standIns.of("sst:aws:Function").filter((f) => routeFunctionNames().has(f.args.name));
  const fnFor = (id: string) => functions().find((f) => f.args.name === platform.functionName(id))!;

  it("declares exactly one function and one API route per route, with the handler from handlerFile()", () => {
    expect(functions()).toHaveLength(routes.length);
    // Besides the route table's: the console's two routes (see "the console in infra").
    expect(declared.standIns.routes).toHaveLength(routes.length + CONSOLE_ROUTES.length);
    for (const route of routes) {
      const fn = fnFor(route.id);
      expect(fn, route.id).toBeDefined();
      expect(fn.args.handler).toBe(`functions/src/${route.id.replace(".", "/")}.handler`);
      expect(existsSync(join(ROOT, handlerFile(route))), handlerFile(route)).toBe(true);
      const apiRoute = declared.standIns.routes.find((r) => r.rawRoute === `${route.method} ${route.path}`);
      expect(apiRoute, `${route.method} ${route.path}`).toBeDefined();
      expect(apiRoute!.handler).toBe(fn.instance.arn);
    }
  });

  it("wraps in each handler the route table's own entry (handlers import their area module, not the table)", async () => {
    for (const route of routes) {
      const { handler } = await import(pathToFileURL(join(ROOT, handlerFile(route))).href);
      expect(handler.route, route.id).toBe(route);
    }
  });

  it("runs every function (routes and workflow tasks) on nodejs24.x, arm64, as a minified, code-split ESM bundle with its own log group", () => {
    const all = declared.standIns.of("sst:aws:Function");
    expect(all).toHaveLength(routes.length + tasks.length + 1); // and the console's
    for (const fn of all) {
      expect(fn.args).toMatchObject({ runtime: "nodejs24.x", architecture: "arm64", nodejs: { format: "esm", minify: true, splitting: true, plugins: "infra/esbuild-plugins.mjs" } });
      expect(fn.args.logging).toEqual({ retention: "3 months", format: "json" });
      expect(fn.args.permissions).toBeUndefined();
      expect(fn.args.policies).toBeUndefined();
    }
  });

  it("links each function to exactly the resources its bundled code reads", async () => {
    const linkName = (resource: unknown) => declared.standIns.records.find((r) => r.instance === resource)!.name;
    const reached: Record<string, string[]> = {};
    const linked: Record<string, string[]> = {};
    for (const route of routes) {
      const bundle = await handlerBundle(join(ROOT, handlerFile(route)));
      reached[route.id] = bundle.links;
      // The policy simulator (AGPL) is for tests only: no function may ship it.
      expect(bundle.packages.filter((p) => p.startsWith("@cloud-copilot/")), route.id).toEqual([]);
      expect(bundle.packages, route.id).toContain("sst");
      linked[route.id] = fnFor(route.id).args.link.map(linkName).sort();
    }
    expect(linked).toEqual(reached);
    // The cursor secret is reachable from the paginated listings only.
    expect(Object.entries(linked).filter(([, names]) => names.includes("CursorKey")).map(([id]) => id).sort())
      .toEqual(["apps.list", "audit.checkpoints", "audit.export", "audit.heads", "audit.list", "credentials.list", "deployments.list", "grants.list", "sources.list", "targets.list"]);
  });
});

describe("the console in infra", () => {
  const consoleFn = () => declared.standIns.one("sst:aws:Function", "ConsoleFunction");

  it("routes GET /console and GET /console/{proxy+} on the API's own domains to one function serving the built files", () => {
    const fn = consoleFn();
    for (const route of CONSOLE_ROUTES) {
      const apiRoute = declared.standIns.routes.find((r) => r.rawRoute === `${route.method} ${route.path}`);
      expect(apiRoute, route.path).toBeDefined();
      expect(apiRoute!.handler).toBe(fn.instance.arn);
    }
    expect(CONSOLE_ROUTES.map((r) => r.path)).toEqual(["/console", "/console/{proxy+}"]);
    expect(fn.args.handler).toBe(CONSOLE_HANDLER_FILE.replace(/\.ts$/, ".handler"));
    expect(existsSync(join(ROOT, CONSOLE_HANDLER_FILE))).toBe(true);
    expect(fn.args).toMatchObject({ name: platform.functionName(CONSOLE_FUNCTION_ID), runtime: "nodejs24.x", architecture: "arm64" });
    const [copy] = fn.args.copyFiles;
    expect(fn.args.copyFiles).toHaveLength(1);
    expect(copy.to).toBe(CONSOLE_BUNDLE_DIR);
    const built = join(ROOT, copy.from);
    expect(readFileSync(join(built, "index.html"), "utf8")).toMatch(/<script type="module" src="\/console\/assets\/main-[A-Z0-9]+\.js"><\/script>/);
  });

  it("links the platform host and the identity provider's console settings, exactly what its bundle reads", async () => {
    const linkName = (resource: unknown) => declared.standIns.records.find((r) => r.instance === resource)!.name;
    const bundle = await handlerBundle(join(ROOT, CONSOLE_HANDLER_FILE));
    expect(consoleFn().args.link.map(linkName).sort()).toEqual(bundle.links);
    expect(bundle.links).toEqual(["Console", "Platform"]);
    expect(declared.standIns.one("sst:sst:Linkable", "Console").args.properties).toEqual({
      clientId: "bulkhead-console",
      authorizationEndpoint: ENV.BULKHEAD_AUTH_AUTHORIZATION_ENDPOINT,
      tokenEndpoint: ENV.BULKHEAD_AUTH_TOKEN_ENDPOINT,
      scope: "openid",
    });
  });

  it("gives its function a role that writes its own log group and nothing else", () => {
    const role = functionRoleArgs(consoleFn());
    expect(role.name).toBe(platform.functionRole(CONSOLE_FUNCTION_ID));
    expect(role.managedPolicyArns).toEqual([]);
    const [policy] = policiesOf(role);
    expect(policy!.Statement).toEqual([{
      Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [`${arn.logGroup(location, `/aws/lambda/${platform.functionName(CONSOLE_FUNCTION_ID)}`)}:*`],
    }]);
  });

  it("refuses to declare a console without https sign-in endpoints and a client id", async () => {
    await expect(declare({ env: { BULKHEAD_CONSOLE_CLIENT_ID: undefined } })).rejects.toThrow(/BULKHEAD_CONSOLE_CLIENT_ID/);
    await expect(declare({ env: { BULKHEAD_AUTH_TOKEN_ENDPOINT: "http://id.example.test/token" } })).rejects.toThrow(/https/);
  });
});

describe("IAM in infra", () => {
  const allRoles = () => [
    ...declared.standIns.of("sst:aws:Function").map((fn) => ({ name: fn.name, args: functionRoleArgs(fn) })),
    ...declared.standIns.of("sst:aws:CronV2").map((cron) => ({ name: cron.name, args: functionRoleArgs({ args: cron.args.function }) })),
    ...declared.standIns.of("sst:aws:DynamoLambdaSubscriber").map((sub) => ({ name: sub.name, args: functionRoleArgs({ args: sub.args.subscriber }) })),
    ...declared.standIns.of("sst:aws:BucketNotification").flatMap((n) => resolved(n.args).notifications.map((one: any) => ({ name: one.name, args: functionRoleArgs({ args: one.function }) }))),
    ...declared.standIns.of("aws:iam:Role").map((role) => ({ name: role.name, args: resolved(role.args) })),
  ];

  it("replaces SST's role contents: no managed policies, the generated trust and policy only", () => {
    for (const route of routes) {
      const fn = declared.standIns.of("sst:aws:Function").find((f) => f.args.name === platform.functionName(route.id))!;
      const role = functionRoleArgs(fn);
      expect(role.name).toBe(platform.functionRole(route.id));
      expect(role.managedPolicyArns).toEqual([]);
      expect(JSON.parse(role.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "lambda.amazonaws.com" });
      const [policy] = policiesOf(role);
      expect(policy!.Statement.find((s) => s.Sid === "WriteOwnLogs")!.Resource).toEqual([`${arn.logGroup(location, `/aws/lambda/${platform.functionName(route.id)}`)}:*`]);
      expect(policy!.Statement.some((s) => s.Sid === "AssumeTenantData"), route.id).toBe(functionAccess(route).tenantData);
    }
  });

  it("grants no '*' action, and a '*' resource only where AWS has no narrower one, each with a comment in the IAM module", async () => {
    const roles = allRoles();
    // Functions (routes, tasks, the console), the three jobs, the source-uploaded handler, the tenant data role, the hosted deploy role, the artifact reader, the state machine's and the build project's.
    expect(roles.length).toBe(routes.length + tasks.length + 1 + 3 + 1 + 5);
    const boundary = declared.standIns.one("aws:iam:Policy", "BuildRoleBoundary");
    const documents = [
      ...roles.flatMap((role) => [...policiesOf(role.args), JSON.parse(role.args.assumeRolePolicy)].map((policy) => ({ name: role.name, policy }))),
      { name: boundary.name, policy: JSON.parse(resolved(boundary.args).policy) as PolicyDocument },
    ];
    const starSids = new Set<string>();
    for (const { name, policy } of documents) {
      expect(wildcardAllows(policy), name).toEqual([]);
      expect(await unneededStarResources(policy), name).toEqual([]);
      expect(await unknownActions(policy), name).toEqual([]);
      for (const statement of policy.Statement) if (statement.Effect === "Allow" && statement.Resource?.includes("*")) starSids.add(statement.Sid);
    }
    // The only '*' resource in any platform document: ECR's login, which has no resource type.
    expect([...starSids]).toEqual(["RegistryLogin"]);
    const iamModule = readFileSync(join(ROOT, "packages/core/src/iam/workflows.ts"), "utf8");
    expect(iamModule).toMatch(/AWS requires "\*": GetAuthorizationToken has no resource type[^\n]*\n\s*\{ Sid: "RegistryLogin"/);
  });

  it("lets only the org-scoped functions', the tenant-reading tasks', the jobs' and the source-uploaded handler's roles assume the tenant data role, after they exist", () => {
    const tenant = declared.standIns.one("aws:iam:Role", "TenantDataRole");
    const trust = JSON.parse(resolved(tenant.args).assumeRolePolicy);
    const orgRoutes = routes.filter((r) => r.host === "org");
    const tenantTasks = tasks.filter((t) => (t.needs as readonly string[]).includes("table"));
    expect(orgRoutes.length).toBeGreaterThan(0);
    expect(tenantTasks.length).toBeGreaterThan(0);
    const taskRoleArn = (id: string) => arn.role(location, id === "deploys.apply" ? platform.deployerRole : platform.taskRole(id));
    expect([...trust.Statement[0].Principal.AWS].sort()).toEqual([
      ...orgRoutes.map((r) => arn.role(location, platform.functionRole(r.id))),
      ...tenantTasks.map((t) => taskRoleArn(t.id)),
      arn.role(location, platform.jobRole(KEK_ROTATION_JOB)),
      arn.role(location, platform.jobRole(DEPLOYMENT_SWEEP_JOB)),
      arn.role(location, platform.jobRole(AUDIT_SEQUENCER_JOB)),
      arn.role(location, platform.jobRole(SOURCE_UPLOADED_JOB)),
    ].sort());
    expect(tenant.opts.dependsOn).toHaveLength(orgRoutes.length + tenantTasks.length + 4);
    expect(tenant.opts.dependsOn).toContain(declared.standIns.one("sst:aws:BucketNotification", "Artifacts-bucket-name-notifications").instance);
    expect(tenant.opts.dependsOn).toContain(declared.standIns.one("sst:aws:CronV2", "KekRotation").instance);
    expect(tenant.opts.dependsOn).toContain(declared.standIns.one("sst:aws:CronV2", "DeploymentSweep").instance);
    expect(tenant.opts.dependsOn).toContain(declared.standIns.one("sst:aws:DynamoLambdaSubscriber", "AuditSequencer").instance);
    expect(resolved(tenant.args).name).toBe(platform.tenantDataRole);
  });

  it("gives each route only the calls its code makes: KMS on the checkpoint key, Step Functions on the deployment machine, S3 on source ZIPs, build logs", () => {
    const keyArn = declared.standIns.one("aws:kms:Key", "AuditCheckpointSigningKey").instance.arn.value;
    const machineArn = arn.stateMachine(location, platform.deploymentStateMachine);
    const extra: Record<string, unknown[]> = {};
    for (const route of routes) {
      const fn = declared.standIns.of("sst:aws:Function").find((f) => f.args.name === platform.functionName(route.id))!;
      const [policy] = policiesOf(functionRoleArgs(fn));
      const statements = policy!.Statement.filter((s) => s.Action?.some((a) => a.startsWith("kms:") || a.startsWith("states:") || a.startsWith("secretsmanager:") || a.startsWith("s3:") || /^logs:(?:Get|Describe|Filter)/.test(a)));
      if (statements.length) extra[route.id] = statements.map((s) => ({ Action: s.Action, Resource: s.Resource }));
    }
    expect(extra).toEqual({
      "audit.verify": [{ Action: ["kms:GetPublicKey"], Resource: [keyArn] }],
      "audit.heads": [{ Action: ["kms:GetPublicKey"], Resource: [keyArn] }],
      "audit.checkpoints": [{ Action: ["kms:GetPublicKey"], Resource: [keyArn] }],
      "deployments.create": [{ Action: ["states:StartExecution"], Resource: [machineArn] }],
      "deployments.cancel": [{ Action: ["states:StopExecution"], Resource: [`arn:aws:states:${REGION}:${ACCOUNT}:execution:${platform.deploymentStateMachine}:*`] }],
      "deployments.get": [{ Action: ["logs:DescribeLogStreams", "logs:GetLogEvents"], Resource: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/bulkhead/*/build`, `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/bulkhead/*/build:*`] }],
      "sources.create": [{ Action: ["s3:PutObject"], Resource: [`arn:aws:s3:::${platform.artifactBucket}/*/*/sources/*.zip`] }],
    });
  });

  it("lets sources.create sign upload forms for source ZIPs only (S3 honours a form within its signer's rights)", async () => {
    const fn = declared.standIns.of("sst:aws:Function").find((f) => f.args.name === platform.functionName("sources.create"))!;
    const [policy] = policiesOf(functionRoleArgs(fn));
    const put = (key: string, bucket: string = platform.artifactBucket) => decide({
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${platform.functionRole("sources.create")}/s`,
      action: "s3:PutObject", resource: `arn:aws:s3:::${bucket}/${key}`, context: {}, identity: [policy!],
    });
    const app = "a".repeat(26);
    expect(await put(`acme/${app}/sources/v1.zip`)).toBe("Allowed");
    expect(await put(`acme/${app}/01ARZ3NDEKTSV4RRFFQ69G5FAV/artifact.zip`)).toBe("ImplicitlyDenied");
    expect(await put(`acme/${app}/sources/v1.tar`)).toBe("ImplicitlyDenied");
    expect(await put("sources/v1.zip")).toBe("ImplicitlyDenied");
    expect(await put(`acme/${app}/sources/v1.zip`, "another-bucket")).toBe("ImplicitlyDenied");
  });

  it("gives no link a permission of its own", () => {
    const wrapped = Object.fromEntries(declared.standIns.wraps.map((w) => [w.type, w.callback({ name: "x" })]));
    expect(wrapped).toEqual({ "sst:aws:Dynamo": { properties: { name: "x" } }, "sst:aws:Bucket": { properties: { name: "x" } } });
    for (const linkable of declared.standIns.of("sst:sst:Linkable")) expect(linkable.args.include, linkable.name).toBeUndefined();
  });
});

describe("storage", () => {
  it("builds the table from TABLE_SCHEMA with TTL, point-in-time recovery and deletion protection", () => {
    const table = declared.standIns.one("sst:aws:Dynamo", "Table").args;
    const { kekRotation, activeDeployments } = TABLE_SCHEMA.indexes;
    expect(table.fields).toEqual({
      PK: "string", SK: "string",
      [kekRotation.partitionKey]: "string", [kekRotation.sortKey]: "string",
      [activeDeployments.partitionKey]: "string", [activeDeployments.sortKey]: "string",
    });
    expect(table.fields).toEqual({ PK: "string", SK: "string", kekRotationIndex: "string", kekRotatedAt: "string", activeDeploymentsIndex: "string", activeSince: "string" });
    expect(table.primaryIndex).toEqual({ hashKey: TABLE_SCHEMA.partitionKey, rangeKey: TABLE_SCHEMA.sortKey });
    expect(table.ttl).toBe("expiresAt");
    expect(table.deletionProtection).toBe(true);
    const underlying = declared.transform(table.transform.table, { pointInTimeRecovery: { enabled: false } } as any);
    expect(underlying).toEqual({ name: "bulkhead-ci", pointInTimeRecovery: { enabled: true } });
  });

  it("declares every index of TABLE_SCHEMA, and only those, as a keys-only global index", () => {
    const table = declared.standIns.one("sst:aws:Dynamo", "Table").args;
    expect(table.globalIndexes).toEqual(Object.fromEntries(Object.values(TABLE_SCHEMA.indexes)
      .map((index) => [index.name, { hashKey: index.partitionKey, rangeKey: index.sortKey, projection: "keys-only" }])));
    expect(table.globalIndexes).toEqual({
      "kek-rotation": { hashKey: "kekRotationIndex", rangeKey: "kekRotatedAt", projection: "keys-only" },
      "active-deployments": { hashKey: "activeDeploymentsIndex", rangeKey: "activeSince", projection: "keys-only" },
    });
  });

  it("blocks public access to the artifact bucket and refuses anything but TLS 1.2+", () => {
    const bucket = declared.standIns.one("sst:aws:Bucket", "Artifacts").args;
    expect(bucket).toMatchObject({ versioning: true, enforceHttps: true });
    expect(bucket.access).toBeUndefined();
    expect(declared.transform(bucket.transform.bucket, { forceDestroy: true } as any)).toEqual({ bucket: platform.artifactBucket, forceDestroy: false });
    expect(declared.transform(bucket.transform.publicAccessBlock, { blockPublicPolicy: false, restrictPublicBuckets: false } as any)).toEqual({
      blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    });
    const policy = JSON.parse(declared.transform(bucket.transform.policy, { policy: "{}" } as any).policy);
    const bucketArn = `arn:aws:s3:::${platform.artifactBucket}`;
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: "Deny", Principal: "*", Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      expect.objectContaining({ Effect: "Deny", Principal: "*", Resource: [bucketArn, `${bucketArn}/*`], Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } } }),
    ]);
  });
});

describe("the HTTP API", () => {
  const api = () => declared.standIns.one("sst:aws:ApiGatewayV2", "Api").args;

  it("serves *.api.<base domain> and the apex api.<base domain> on one certificate", () => {
    expect(resolved(api().domain)).toMatchObject({ name: "*.api.example.test", cert: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/ApiCertificate` });
    expect(declared.standIns.one("sst:aws:Certificate", "ApiCertificate").args).toMatchObject({ domainName: "api.example.test", alternativeNames: ["*.api.example.test"] });
    const apex = resolved(declared.standIns.one("aws:apigatewayv2:DomainName", "PlatformHost").args);
    expect(apex).toEqual({ domainName: "api.example.test", domainNameConfiguration: { certificateArn: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/ApiCertificate`, endpointType: "REGIONAL", securityPolicy: "TLS_1_2" } });
    expect(resolved(declared.standIns.one("aws:apigatewayv2:ApiMapping", "PlatformHostMapping").args)).toEqual({ apiId: "Api-api-id", domainName: "PlatformHost-id", stage: "$default" });
    expect(resolved(declared.standIns.aliases.map((a) => a.record.name))).toEqual(["api.example.test"]);
  });

  it("disables the execute-api endpoint, which would bypass hostname tenancy", () => {
    expect(declared.transform(api().transform.api, { protocolType: "HTTP" } as any)).toEqual({ protocolType: "HTTP", disableExecuteApiEndpoint: true });
  });

  it("throttles every route and writes access logs that carry the domain name", () => {
    expect(api().cors).toBe(false);
    expect(api().accessLog).toEqual({ retention: "1 year" });
    const stage = declared.transform(api().transform.stage, { name: "$default", accessLogSettings: { destinationArn: "arn:aws:logs:access", format: "{}" } } as any) as any;
    expect(stage.defaultRouteSettings).toEqual({ throttlingRateLimit: 150, throttlingBurstLimit: 400, detailedMetricsEnabled: true });
    expect(stage.accessLogSettings.destinationArn).toBe("arn:aws:logs:access");
    expect(JSON.parse(stage.accessLogSettings.format)).toMatchObject({ domainName: "$context.domainName", requestId: "$context.requestId", status: "$context.status" });
  });
});

describe("links and stage configuration", () => {
  it("links the platform host, the issuer and the tenant data role by value, and the cursor key as a secret", () => {
    const linkable = (name: string) => declared.standIns.one("sst:sst:Linkable", name).args.properties;
    expect(linkable("Platform")).toEqual({ baseDomain: "api.example.test" });
    expect(linkable("Auth")).toEqual({ issuer: ENV.BULKHEAD_AUTH_ISSUER, audience: ENV.BULKHEAD_AUTH_AUDIENCE, jwksUri: ENV.BULKHEAD_AUTH_JWKS_URI });
    expect(linkable("TenantData")).toEqual({ roleArn: `arn:aws:iam::${ACCOUNT}:role/bulkhead-ci-tenant-data` });
    expect(declared.standIns.one("sst:sst:Secret", "CursorKey").args).toEqual({});
  });

  it("refuses to declare anything without its configuration", async () => {
    await expect(declare({ env: { BULKHEAD_BASE_DOMAIN: undefined } })).rejects.toThrow(/BULKHEAD_BASE_DOMAIN/);
    await expect(declare({ env: { BULKHEAD_AUTH_JWKS_URI: "http://id.example.test/jwks" } })).rejects.toThrow(/https/);
    await expect(declare({ env: { BULKHEAD_BASE_DOMAIN: "example.test/evil" } })).rejects.toThrow(/not a domain/);
  });

  it("under sst dev, keeps SST's role contents and adds the generated policy", async () => {
    const dev = await declare({ dev: true });
    const fn = dev.standIns.of("sst:aws:Function")[0]!;
    const role = functionRoleArgs(fn, dev);
    expect(role.assumeRolePolicy).toBe('{"sst":"lambda trust"}');
    expect(role.inlinePolicies.map((p: any) => p.name)).toEqual(["inline", "bulkhead"]);
  });
});

describe("the deployment workflow in infra", () => {
  const taskFunction = (id: string) => declared.standIns.of("sst:aws:Function").find((f) => f.args.name === platform.taskFunction(id))!;
  const machineArn = arn.stateMachine(location, platform.deploymentStateMachine);
  const taskRoleArgs = (id: string) => functionRoleArgs(taskFunction(id));

  it("declares one function per task of the task table, its handler on disk, its timeout within its state's", () => {
    const definition = JSON.parse(resolved(declared.standIns.one("aws:sfn:StateMachine", "DeploymentStateMachine").args).definition);
    for (const task of tasks) {
      const fn = taskFunction(task.id);
      expect(fn, task.id).toBeDefined();
      expect(fn.args).toMatchObject({ runtime: "nodejs24.x", architecture: "arm64", nodejs: { format: "esm", minify: true, splitting: true, plugins: "infra/esbuild-plugins.mjs" } });
      expect(fn.args.handler).toBe(taskFile(task).replace(/\.ts$/, ".handler"));
      expect(existsSync(join(ROOT, taskFile(task))), taskFile(task)).toBe(true);
      const states = Object.values<any>(definition.States).filter((state) => state.Resource === fn.instance.arn.value);
      expect(states.length, task.id).toBe(task.invokedBy === "state" ? 1 : 0);
      for (const state of states) expect(Number.parseInt(fn.args.timeout, 10), task.id).toBeLessThanOrEqual(state.TimeoutSeconds);
    }
  });

  it("deploys the shared ASL: the definition is stateMachines.Deployment with the task functions' ARNs", () => {
    const machine = resolved(declared.standIns.one("aws:sfn:StateMachine", "DeploymentStateMachine").args);
    const resources = Object.fromEntries(tasks.filter((t) => t.invokedBy === "state").map((t) => [t.id, taskFunction(t.id).instance.arn.value])) as TaskResources;
    expect(JSON.parse(machine.definition)).toEqual(stateMachines.Deployment(PRODUCTION_WORKFLOW_OPTIONS, resources));
    expect(machine).toMatchObject({ name: platform.deploymentStateMachine, type: "STANDARD", roleArn: arn.role(location, platform.deploymentMachineRole) });
    expect(declared.standIns.of("aws:sfn:StateMachine")).toHaveLength(1);
  });

  it("links each task to exactly the resources its bundled code reads", async () => {
    const linkName = (resource: unknown) => declared.standIns.records.find((r) => r.instance === resource)!.name;
    const reached: Record<string, string[]> = {};
    const linked: Record<string, string[]> = {};
    for (const task of tasks) {
      const bundle = await handlerBundle(join(ROOT, taskFile(task)));
      expect(bundle.packages.filter((p) => p.startsWith("@cloud-copilot/")), task.id).toEqual([]);
      reached[task.id] = bundle.links;
      linked[task.id] = taskFunction(task.id).args.link.map(linkName).sort();
    }
    expect(linked).toEqual(reached);
  });

  it("calls the execution-closed task on ABORTED, TIMED_OUT and FAILED executions of the deployment machine only", () => {
    const rule = declared.standIns.one("aws:cloudwatch:EventRule", "DeploymentExecutionClosed");
    expect(JSON.parse(resolved(rule.args).eventPattern)).toEqual({
      source: ["aws.states"],
      "detail-type": ["Step Functions Execution Status Change"],
      detail: { stateMachineArn: [machineArn], status: ["ABORTED", "TIMED_OUT", "FAILED"] },
    });
    const closed = taskFunction("deployments.execution-closed");
    expect(resolved(declared.standIns.one("aws:cloudwatch:EventTarget", "DeploymentExecutionClosedTarget").args)).toEqual({ rule: "DeploymentExecutionClosed", arn: closed.instance.arn.value });
    expect(resolved(declared.standIns.one("aws:lambda:Permission", "DeploymentExecutionClosedInvoke").args)).toEqual({
      action: "lambda:InvokeFunction", function: platform.taskFunction("deployments.execution-closed"), principal: "events.amazonaws.com", sourceArn: rule.instance.arn.value,
    });
  });

  it("keeps one artifact bucket, storage.ts's, and links its name to the workflows", () => {
    expect(declared.standIns.of("sst:aws:Bucket").map((b) => b.name)).toEqual(["Artifacts"]);
    const deployments = resolved(declared.standIns.one("sst:sst:Linkable", "Deployments").args.properties);
    expect(deployments).toEqual({
      region: REGION,
      accountId: ACCOUNT,
      stateMachineArn: machineArn,
      buildProject: platform.buildProject,
      artifactBucket: "Artifacts-bucket-name",
      artifactReaderRoleArn: arn.role(location, platform.artifactReaderRole),
      buildRolePath: "/bulkhead/build/",
      buildRolePermissionsBoundary: arn.managedPolicy(location, platform.buildRoleBoundary),
      hostedTargetRoleArn: arn.role(location, hostedDeployRoleName(STAGE)),
      hostedTargetRegion: REGION,
    });
    expect(resolved(declared.standIns.one("aws:codebuild:Project", "BuildProject").args).name).toBe(platform.buildProject);
  });

  it("links the source upload form's settings: the bucket, its region, the stage's size cap and the form's lifetime", () => {
    expect(resolved(declared.standIns.one("sst:sst:Linkable", "Sources").args.properties)).toEqual({
      bucket: "Artifacts-bucket-name", region: REGION, maxBytes: 50 * 1024 * 1024, uploadSeconds: SOURCE_UPLOAD_DEFAULTS.uploadSeconds,
    });
  });

  it("runs the apply task as the platform deployer, which assumes only roles named bulkhead-deploy-* and the artifact reader", () => {
    const role = taskRoleArgs("deploys.apply");
    expect(role.name).toBe(platform.deployerRole);
    const [policy] = policiesOf(role);
    const sts = policy!.Statement.filter((s) => s.Effect === "Allow" && s.Action?.some((a) => a.startsWith("sts:")));
    expect(sts.map((s) => [s.Sid, s.Resource])).toEqual([
      ["AssumeTenantData", [arn.role(location, platform.tenantDataRole)]],
      ["TagTenantSessionWithOrg", [arn.role(location, platform.tenantDataRole)]],
      ["AssumeDeployTargets", ["arn:aws:iam::*:role/bulkhead-deploy-*"]],
      ["TagDeploySessions", ["arn:aws:iam::*:role/bulkhead-deploy-*"]],
      ["AssumeArtifactReader", [arn.role(location, platform.artifactReaderRole)]],
      ["TagArtifactReaderSessions", [arn.role(location, platform.artifactReaderRole)]],
    ]);
    expect(policy!.Statement.filter((s) => s.Action?.some((a) => a.startsWith("s3:")))).toEqual([]);
    // The artifact reader: the IAM module's role, trusted by the deployer alone, declared after the deployer exists.
    const reader = declared.standIns.one("aws:iam:Role", "ArtifactReaderRole");
    const readerDocs = artifactReaderRole({ location, platform });
    expect(resolved(reader.args)).toMatchObject({ name: platform.artifactReaderRole, assumeRolePolicy: JSON.stringify(readerDocs.trust) });
    expect(policiesOf(resolved(reader.args))).toEqual([readerDocs.policy]);
    expect(reader.opts?.dependsOn).toEqual([taskFunction("deploys.apply").instance]);
    // No other task may assume anything but the tenant data role.
    for (const task of tasks.filter((t) => t.id !== "deploys.apply")) {
      const [other] = policiesOf(taskRoleArgs(task.id));
      const assumed = other!.Statement.filter((s) => s.Effect === "Allow" && s.Action?.some((a) => a.startsWith("sts:"))).flatMap((s) => s.Resource);
      for (const resource of assumed) expect(resource, task.id).toBe(arn.role(location, platform.tenantDataRole));
    }
    // The hosted target follows the same convention, and trusts the deployer alone, with the ExternalId.
    const hosted = resolved(declared.standIns.one("aws:iam:Role", "HostedDeployRole").args);
    expect(hosted.name).toBe(hostedDeployRoleName(STAGE));
    expect(hosted.name).toMatch(/^bulkhead-deploy-/);
    const trust = JSON.parse(hosted.assumeRolePolicy);
    expect(trust.Statement[0]).toMatchObject({
      Principal: { AWS: arn.role(location, platform.deployerRole) },
      Condition: { StringEquals: { "sts:ExternalId": "stand-in-secret-value-of-HostedTargetExternalId" } },
    });
  });

  it("creates per-app build roles only under the build boundary, and passes them only to CodeBuild", () => {
    const [prepare] = policiesOf(taskRoleArgs("builds.prepare"));
    const writes = prepare!.Statement.find((s) => s.Sid === "WriteBuildRolesWithinBoundary")!;
    expect(writes).toMatchObject({
      Action: ["iam:CreateRole", "iam:PutRolePolicy"],
      Resource: [`arn:aws:iam::${ACCOUNT}:role/bulkhead/build/*`],
      Condition: { StringEquals: { "iam:PermissionsBoundary": arn.managedPolicy(location, platform.buildRoleBoundary) } },
    });
    const machine = resolved(declared.standIns.one("aws:iam:Role", "DeploymentMachineRole").args);
    const pass = JSON.parse(machine.inlinePolicies[0].policy).Statement.find((s: any) => s.Action.includes("iam:PassRole"));
    expect(pass).toMatchObject({ Resource: [`arn:aws:iam::${ACCOUNT}:role/bulkhead/build/*`], Condition: { StringEquals: { "iam:PassedToService": "codebuild.amazonaws.com" } } });
    const machineTrust = JSON.parse(machine.assumeRolePolicy).Statement[0];
    expect(machineTrust).toMatchObject({ Principal: { Service: "states.amazonaws.com" }, Condition: { ArnLike: { "aws:SourceArn": machineArn } } });
    const projectRole = resolved(declared.standIns.one("aws:iam:Role", "BuildProjectRole").args);
    expect(projectRole.inlinePolicies).toEqual([]);
    expect(projectRole.managedPolicyArns).toEqual([]);
  });
});

describe("the source-uploaded notification in infra", () => {
  const notification = () => resolved(declared.standIns.one("sst:aws:BucketNotification", "Artifacts-bucket-name-notifications").args).notifications;
  const fn = () => notification()[0].function;

  it("calls its handler on ObjectCreated of the artifact bucket's ZIPs, as a function of the shared defaults", async () => {
    expect(notification()).toHaveLength(1);
    expect(notification()[0]).toMatchObject({ name: "SourceUploaded", events: ["s3:ObjectCreated:*"], filterSuffix: ".zip" });
    expect(fn()).toMatchObject({ runtime: "nodejs24.x", architecture: "arm64", name: platform.jobFunction(SOURCE_UPLOADED_JOB), timeout: "30 seconds" });
    const [file, exported] = fn().handler.split(/\.(?=[^.]+$)/);
    expect(exported).toBe("handler");
    const bundle = await handlerBundle(join(ROOT, `${file}.ts`));
    const linkName = (resource: unknown) => declared.standIns.records.find((r) => r.instance === resource)!.name;
    expect(declared.standIns.one("sst:aws:BucketNotification", "Artifacts-bucket-name-notifications").args.notifications[0].function.link.map(linkName).sort()).toEqual(bundle.links);
    expect(bundle.links).toEqual(["Table", "TenantData"]);
  });

  it("runs under its own role: its log group and the tenant data role with an org tag, nothing of S3", () => {
    const args = functionRoleArgs({ args: declared.standIns.one("sst:aws:BucketNotification", "Artifacts-bucket-name-notifications").args.notifications[0].function });
    expect(args.name).toBe(platform.jobRole(SOURCE_UPLOADED_JOB));
    expect(args.managedPolicyArns).toEqual([]);
    const [policy] = policiesOf(args);
    expect(policy!.Statement.map((s) => [s.Sid, s.Effect, s.Action])).toEqual([
      ["WriteOwnLogs", "Allow", ["logs:CreateLogStream", "logs:PutLogEvents"]],
      ["AssumeTenantData", "Allow", ["sts:AssumeRole"]],
      ["TagTenantSessionWithOrg", "Allow", ["sts:TagSession"]],
      ["DenyScan", "Deny", ["dynamodb:Scan"]],
    ]);
  });
});

describe("the KEK-rotation job in infra", () => {
  const cron = () => declared.standIns.one("sst:aws:CronV2", "KekRotation");
  const fn = () => cron().args.function;
  const role = () => functionRoleArgs({ args: fn() });

  it("runs daily on EventBridge Scheduler, as a nodejs24.x function of the shared defaults with a handler file that exists", () => {
    expect(declared.standIns.of("sst:aws:CronV2").map((c) => c.name)).toEqual(["KekRotation", "DeploymentSweep"]);
    expect(cron().args.schedule).toBe("rate(1 day)");
    expect(fn()).toMatchObject({
      runtime: "nodejs24.x", architecture: "arm64", nodejs: { format: "esm", minify: true },
      logging: { retention: "3 months", format: "json" },
      name: platform.jobFunction(KEK_ROTATION_JOB),
      timeout: "15 minutes",
    });
    expect(fn().permissions).toBeUndefined();
    const [file, exported] = fn().handler.split(/\.(?=[^.]+$)/);
    expect(exported).toBe("handler");
    expect(existsSync(join(ROOT, `${file}.ts`)), file).toBe(true);
    expect(fn().environment).toEqual({
      POWERTOOLS_LOG_LEVEL: "INFO",
      ...Object.fromEntries(Object.entries(ROTATION_DEFAULTS).map(([k, v]) => [k, String(v)])),
    });
    expect(Object.keys(fn().environment).filter((k) => k.startsWith("ROTATION_")).sort()).toEqual(["ROTATION_CONCURRENCY", "ROTATION_DAYS", "ROTATION_GRACE_MINUTES", "ROTATION_LEASE_SECONDS"]);
  });

  it("links exactly the resources its bundled code reads", async () => {
    expect(await jobLinks(fn())).toEqual(["KeyStore", "Table", "TenantData"]);
  });

  it("runs under its own generated role: its log group, Query on the kek-rotation index, the tenant data role with an org tag", async () => {
    const asJob = await expectIndexJobRole(role(), KEK_ROTATION_JOB, "QueryKekRotationIndex", TABLE_SCHEMA.indexes.kekRotation);
    expect(await asJob("secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bulkhead/acme/web/kek-Ab12Cd`, {})).toBe("ImplicitlyDenied");
  });
});

describe("the audit sequencer in infra", () => {
  const subscription = () => declared.standIns.one("sst:aws:DynamoLambdaSubscriber", "AuditSequencer");
  const fn = () => resolved(subscription().args.subscriber);
  const tableArn = arn.table(location, platform.table);

  it("subscribes to the table's keys-only stream, filtered to new audit records, in batches gathered for a second that split on error", () => {
    expect(declared.standIns.one("sst:aws:Dynamo", "Table").args.stream).toBe("keys-only");
    expect(subscription().args.filters).toEqual([AUDIT_RECORD_FILTER]);
    expect(subscription().args.eventSourceMapping).toEqual({
      batchSize: 1000, maximumBatchingWindowInSeconds: 1, bisectBatchOnFunctionError: true, maximumRetryAttempts: 10, startingPosition: "TRIM_HORIZON", parallelizationFactor: 1,
    });
    // The pattern admits a new record and nothing else the table's stream carries.
    const event = (eventName: string, pk: string, sk: string) => ({ eventName, dynamodb: { Keys: { PK: { S: pk }, SK: { S: sk } } } });
    expect(matchesFilter(AUDIT_RECORD_FILTER, event("INSERT", "ORG#acme#AUDIT#PENDING", "AUDIT-RECORD#01J0000000000000000000000"))).toBe(true);
    expect(matchesFilter(AUDIT_RECORD_FILTER, event("REMOVE", "ORG#acme#AUDIT#PENDING", "AUDIT-RECORD#01J0000000000000000000000"))).toBe(false);
    expect(matchesFilter(AUDIT_RECORD_FILTER, event("INSERT", "ORG#acme#AUDIT", "SEQ#000000000001"))).toBe(false);
    expect(matchesFilter(AUDIT_RECORD_FILTER, event("INSERT", "ORG#acme", "APP#x"))).toBe(false);
    expect(fn()).toMatchObject({ runtime: "nodejs24.x", architecture: "arm64", name: platform.jobFunction(AUDIT_SEQUENCER_JOB), timeout: "5 minutes" });
    const [file] = fn().handler.split(/\.(?=[^.]+$)/);
    expect(existsSync(join(ROOT, `${file}.ts`)), file).toBe(true);
  });

  it("links exactly the resources its bundled code reads", async () => {
    const [file] = fn().handler.split(/\.(?=[^.]+$)/);
    const bundle = await handlerBundle(join(ROOT, `${file}.ts`));
    expect(bundle.packages.filter((p) => p.startsWith("@cloud-copilot/"))).toEqual([]);
    const linkName = (resource: unknown) => declared.standIns.records.find((r) => r.instance === resource)!.name;
    expect(subscription().args.subscriber.link.map(linkName).sort()).toEqual(bundle.links);
    expect(bundle.links).toEqual(["AuditCheckpointKey", "Table", "TenantData"]);
  });

  it("runs under its own role: its log group, the table's stream, signing with the audit key, each org through the tenant data role", async () => {
    const args = functionRoleArgs({ args: subscription().args.subscriber });
    const keyArn = declared.standIns.one("aws:kms:Key", "AuditCheckpointSigningKey").instance.arn.value;
    expect(args.name).toBe(platform.jobRole(AUDIT_SEQUENCER_JOB));
    expect(args.managedPolicyArns).toEqual([]);
    const [policy] = policiesOf(args);
    expect(policy!.Statement.map((s) => [s.Sid, s.Effect, s.Action, s.Resource])).toEqual([
      ["WriteOwnLogs", "Allow", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${arn.logGroup(location, `/aws/lambda/${platform.jobFunction(AUDIT_SEQUENCER_JOB)}`)}:*`]],
      ["ReadTableStream", "Allow", ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"], [`${tableArn}/stream/*`]],
      ["SignTreeHeads", "Allow", ["kms:Sign", "kms:GetPublicKey"], [keyArn]],
      ["AssumeTenantData", "Allow", ["sts:AssumeRole"], [arn.role(location, platform.tenantDataRole)]],
      ["TagTenantSessionWithOrg", "Allow", ["sts:TagSession"], [arn.role(location, platform.tenantDataRole)]],
      ["DenyScan", "Deny", ["dynamodb:Scan"], [tableArn, arn.tableIndexes(location, platform.table)]],
    ]);
    const asSequencer = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
      decide({ principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${args.name}/s`, action, resource, context, identity: [policy!] });
    expect(await asSequencer("dynamodb:GetRecords", `${tableArn}/stream/2026-12-03T00-00-00.000`)).toBe("Allowed");
    // Its own role reaches no org's items: only the tenant session tagged with that org does.
    expect(await asSequencer("dynamodb:PutItem", tableArn, { "dynamodb:LeadingKeys": ["ORG#acme#AUDIT"] })).toBe("ImplicitlyDenied");
    expect(await asSequencer("dynamodb:Scan", tableArn)).toBe("ExplicitlyDenied");
  });
});
describe("the deployment sweep in infra", () => {
  const cron = () => declared.standIns.one("sst:aws:CronV2", "DeploymentSweep");
  const fn = () => cron().args.function;
  const role = () => functionRoleArgs({ args: fn() });

  it("runs every 15 minutes on EventBridge Scheduler, as a nodejs24.x function of the shared defaults with a handler file that exists", () => {
    expect(cron().args.schedule).toBe("rate(15 minutes)");
    expect(fn()).toMatchObject({
      runtime: "nodejs24.x", architecture: "arm64", nodejs: { format: "esm", minify: true },
      logging: { retention: "3 months", format: "json" },
      name: platform.jobFunction(DEPLOYMENT_SWEEP_JOB),
      timeout: "5 minutes",
      environment: { POWERTOOLS_LOG_LEVEL: "INFO" },
    });
    expect(fn().permissions).toBeUndefined();
    const [file, exported] = fn().handler.split(/\.(?=[^.]+$)/);
    expect(exported).toBe("handler");
    expect(existsSync(join(ROOT, `${file}.ts`)), file).toBe(true);
  });

  it("waits out the TimeoutSeconds of the state machine infra deploys", () => {
    const machine = declared.standIns.one("aws:sfn:StateMachine", "DeploymentStateMachine");
    expect(deployedWorkflowTimeoutSeconds()).toBe(JSON.parse(resolved(machine.args).definition).TimeoutSeconds);
  });

  it("links exactly the resources its bundled code reads", async () => {
    expect(await jobLinks(fn())).toEqual(["Table", "TenantData"]);
  });

  it("runs under its own generated role: its log group, Query on the active-deployments index, the tenant data role with an org tag", async () => {
    const asJob = await expectIndexJobRole(role(), DEPLOYMENT_SWEEP_JOB, "QueryActiveDeploymentsIndex", TABLE_SCHEMA.indexes.activeDeployments);
    expect(await asJob("dynamodb:Scan", arn.tableIndex(location, platform.table, TABLE_SCHEMA.indexes.activeDeployments.name), {})).toBe("ExplicitlyDenied");
  });
});

/** A job function's links, checked equal to the `Resource.<Name>` reads of its bundle (which never holds the simulator). */
async function jobLinks(fn: any): Promise<string[]> {
  const [file] = fn.handler.split(/\.(?=[^.]+$)/);
  const bundle = await handlerBundle(join(ROOT, `${file}.ts`));
  expect(bundle.packages.filter((p) => p.startsWith("@cloud-copilot/"))).toEqual([]);
  const linkName = (resource: unknown) => declared.standIns.records.find((r) => r.instance === resource)!.name;
  expect(fn.link.map(linkName).sort()).toEqual(bundle.links);
  return bundle.links;
}

/**
 * A job that walks one platform index runs under its own role: its log group, Query on that index,
 * the tenant data role with an org tag, Scan denied; a simulated Query on the index by its one value
 * is allowed and one on a table partition refused. Returns the simulation, for the job's own probes.
 */
async function expectIndexJobRole(args: any, job: string, sid: string, index: { name: string; partitionValue: string }) {
  const indexArn = `${arn.table(location, platform.table)}/index/${index.name}`;
  expect(args.name).toBe(platform.jobRole(job));
  expect(args.managedPolicyArns).toEqual([]);
  expect(JSON.parse(args.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "lambda.amazonaws.com" });
  const [policy] = policiesOf(args);
  expect(policy!.Statement.map((s) => [s.Sid, s.Effect, s.Action, s.Resource])).toEqual([
    ["WriteOwnLogs", "Allow", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${arn.logGroup(location, `/aws/lambda/${platform.jobFunction(job)}`)}:*`]],
    [sid, "Allow", ["dynamodb:Query"], [indexArn]],
    ["AssumeTenantData", "Allow", ["sts:AssumeRole"], [arn.role(location, platform.tenantDataRole)]],
    ["TagTenantSessionWithOrg", "Allow", ["sts:TagSession"], [arn.role(location, platform.tenantDataRole)]],
    ["DenyScan", "Deny", ["dynamodb:Scan"], [arn.table(location, platform.table), arn.tableIndexes(location, platform.table)]],
  ]);
  expect(wildcardAllows(policy!)).toEqual([]);
  const asJob = (action: string, resource: string, context: Record<string, string | string[]>) =>
    decide({ principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${args.name}/s`, action, resource, context, identity: [policy!] });
  expect(await asJob("dynamodb:Query", indexArn, { "dynamodb:LeadingKeys": [index.partitionValue] })).toBe("Allowed");
  expect(await asJob("dynamodb:Query", arn.table(location, platform.table), { "dynamodb:LeadingKeys": ["ORG#acme"] })).toBe("ImplicitlyDenied");
  return asJob;
}

/** Every `transform` callback inside a declaration's args (a CronV2's function has its own), by key. */
function transformsIn(args: unknown, found: [string, unknown][] = []): [string, unknown][] {
  if (!args || typeof args !== "object" || Object.getPrototypeOf(args) !== Object.prototype) return found;
  for (const [key, value] of Object.entries(args)) {
    if (key === "transform" && value && typeof value === "object") {
      for (const [name, transform] of Object.entries(value)) if (typeof transform === "function") found.push([name, transform]);
    } else transformsIn(value, found);
  }
  return found;
}

/** What SST hands each transform: its component's defaults, as far as the transform reads them. */
const transformSeed = (run: Declared, key: string, region: string): object =>
  key === "role" ? sstRoleDefaults(run.standIns.partition)
    : key === "stage" ? { accessLogSettings: { destinationArn: `arn:${run.standIns.partition}:logs:${region}:${ACCOUNT}:log-group:access`, format: "{}" } }
    : {};

/** Policy documents in a value: objects with a Statement list, or JSON strings of them. */
function documentsIn(value: unknown, found: any[] = []): any[] {
  if (typeof value === "string" && value.startsWith("{")) {
    try {
      documentsIn(JSON.parse(value), found);
    } catch {
      // Not JSON: not a document.
    }
  } else if (Array.isArray(value)) {
    for (const item of value) documentsIn(item, found);
  } else if (value && typeof value === "object") {
    if (Array.isArray((value as any).Statement)) found.push(value);
    else for (const item of Object.values(value)) documentsIn(item, found);
  }
  return found;
}

type DeclaredDocument = { where: string; record: Record_; document: any; waitsFor: Set<object> };

/**
 * Every trust, identity and resource policy a stage declares, with what its resource waits for:
 * its dependsOn and the resources its inputs come from. A transform's output is the child SST
 * creates, which waits only for its own inputs. A Lambda permission is a resource policy too.
 */
function declaredDocuments(run: Declared, region = REGION): DeclaredDocument[] {
  const found: DeclaredDocument[] = [];
  for (const record of run.standIns.records) {
    const waitsFor = new Set<object>([...(record.opts?.dependsOn ?? []), ...sourcesIn(record.args)]);
    const args = resolved(record.args);
    const documents = record.type === "aws:lambda:Permission" ? [{ Statement: [{ Principal: { AWS: args.principal } }] }] : documentsIn(args);
    for (const document of documents) found.push({ where: record.name, record, document, waitsFor });
    for (const [key, transform] of transformsIn(record.args)) {
      const transformed = run.rawTransform(transform, transformSeed(run, key, region));
      for (const document of documentsIn(resolved(transformed))) found.push({ where: `${record.name} (its ${key})`, record, document, waitsFor: sourcesIn(transformed) });
    }
  }
  return found;
}

/** The IAM roles a stage creates, by ARN, with the declaration that creates each (a function creates its own). */
function stackPrincipals(run: Declared, region = REGION): Map<string, Record_> {
  const here = awsLocation({ account: ACCOUNT, region });
  const created = new Map<string, Record_>();
  for (const fn of run.standIns.of("sst:aws:Function")) created.set(arn.role(here, functionRoleArgs(fn, run).name), fn);
  for (const cron of run.standIns.of("sst:aws:CronV2")) created.set(arn.role(here, functionRoleArgs({ args: cron.args.function }, run).name), cron);
  for (const sub of run.standIns.of("sst:aws:DynamoLambdaSubscriber")) created.set(arn.role(here, functionRoleArgs({ args: sub.args.subscriber }, run).name), sub);
  for (const role of run.standIns.of("aws:iam:Role")) created.set(arn.role(here, resolved(role.args).name), role);
  return created;
}

const awsPrincipals = (document: any): string[] =>
  document.Statement.flatMap((statement: any) => [statement.Principal?.AWS ?? []].flat());

describe("what a first deploy would refuse", () => {
  it("makes every policy naming a principal of the stage wait for the resource that creates it (IAM refuses an unknown principal)", () => {
    const principals = stackPrincipals(declared);
    const naming = new Set<string>();
    const early = new Set<string>();
    for (const { where, record, document, waitsFor } of declaredDocuments(declared)) {
      for (const principal of awsPrincipals(document)) {
        const creator = principals.get(principal);
        if (!creator || creator === record) continue;
        naming.add(where);
        if (!waitsFor.has(creator.instance)) early.add(`${where} names ${principal}, created by ${creator.name}, without depending on it`);
      }
    }
    expect([...early]).toEqual([]);
    // The check reaches the three trust policies that name the stage's own roles.
    expect([...naming].sort()).toEqual(["ArtifactReaderRole", "HostedDeployRole", "TenantDataRole"]);
  });

  it("derives every ARN's partition from the region: stages in aws-cn and aws-us-gov declare no other", async () => {
    for (const region of ["cn-north-1", "us-gov-west-1"]) {
      const run = await declare({ region });
      const partition = run.standIns.partition;
      const everything = [
        run.outputs,
        run.standIns.routes,
        run.standIns.aliases,
        ...run.standIns.records.flatMap((record) => [
          record.args,
          record.instance,
          ...transformsIn(record.args).map(([key, transform]) => run.transform(transform, transformSeed(run, key, region))),
        ]),
      ];
      const arns = [...JSON.stringify(resolved(everything)).matchAll(/arn:([^:"\\]*):[^"\\]*/g)];
      expect(arns.length, region).toBeGreaterThan(100);
      expect(arns.filter((m) => m[1] !== partition).map((m) => m[0]), region).toEqual([]);
    }
  });

  it("refuses a stage name the platform cannot use, and says to pass --stage", async () => {
    await expect(declare({ stage: "Jo.Doe" })).rejects.toThrow(/stage must match .*--stage jo-doe.*sst dev/);
    await expect(declare({ stage: "app" })).rejects.toThrow(/--stage dev-app/);
    // Within the rule, yet its artifact bucket name would pass S3's 63 characters in this region.
    await expect(declare({ stage: "abcdefghijklmnopqrst", region: "ap-southeast-3" })).rejects.toThrow(/bucket name .* longer than 63/);
  });

  it("links exactly the secrets the stage settings list, and the deploy steps set each for every stage they run, before it runs", () => {
    const linkedTo = (link: unknown[] = []) => link.map((resource) => declared.standIns.records.find((r) => r.instance === resource)!);
    const linked = [
      ...declared.standIns.of("sst:aws:Function").flatMap((fn) => linkedTo(fn.args.link)),
      ...declared.standIns.of("sst:aws:CronV2").flatMap((cron) => linkedTo(cron.args.function.link)),
    ];
    const secrets = [...new Set(linked.filter((r) => r.type === "sst:sst:Secret").map((r) => r.name))].sort();
    expect(secrets).toEqual(declared.standIns.of("sst:sst:Secret").map((r) => r.name).sort());
    expect(secrets).toEqual(STAGE_SECRETS.map((s) => s.name).sort());

    const steps = deployCommands(section(readFileSync(join(ROOT, "infra/README.md"), "utf8"), "Deploying with an AWS account"));
    expect(setupGaps(steps, secrets, (stage) => stageNameProblem(stage))).toEqual([]);
    // A personal `sst dev` stage and production, both.
    expect(steps.filter((c) => c.kind === "dev").length).toBeGreaterThan(0);
    expect(steps.filter((c) => c.kind === "deploy").map((c) => c.stage)).toContain("production");
    expect(steps.filter((c) => c.kind === "dev").map((c) => c.stage)).not.toContain("production");

    // The top-level README sends the reader to those steps and runs nothing the steps would not.
    const readme = section(readFileSync(join(ROOT, "README.md"), "utf8"), "Deploy it (needs an AWS account)");
    expect(setupGaps(deployCommands(readme), secrets, (stage) => stageNameProblem(stage))).toEqual([]);
    expect(readme).toContain("infra/README.md#deploying-with-an-aws-account");
  });

  it("runs on an AWS provider that accepts nodejs24.x: the one SST pins, and no older one in sst.config.ts", () => {
    // @pulumi/aws lists nodejs24.x in its lambda Runtime from 7.17.0 on (pulumi/pulumi-aws#6154,
    // checked in the published 7.16.0 and 7.17.0 packages' types/enums/lambda); older providers
    // stop a deploy with `expected runtime to be one of [...], got nodejs24.x` (anomalyco/sst#6388).
    const FIRST_WITH_NODEJS24 = [7, 17, 0];
    const pinned = sstPinnedAwsProvider();
    expect(pinned, "the @pulumi/aws version in SST's embedded platform package.json").toMatch(/^\d+\.\d+\.\d+$/);
    const atLeast = (version: string, floor: number[]) => {
      const parts = version.split(".").map(Number);
      const differs = parts.findIndex((part, i) => part !== floor[i]);
      return differs < 0 || parts[differs]! > floor[differs]!;
    };
    expect(atLeast(pinned, FIRST_WITH_NODEJS24), `SST pins @pulumi/aws ${pinned}, older than ${FIRST_WITH_NODEJS24.join(".")}`).toBe(true);
    expect(atLeast("7.16.0", FIRST_WITH_NODEJS24)).toBe(false);
    // sst.config.ts may not override the provider with an older version.
    const providers = (declared.app.providers ?? {}) as Record<string, { version?: string } | boolean>;
    const own = typeof providers.aws === "object" ? providers.aws.version : undefined;
    if (own) expect(atLeast(own.replace(/^[^\d]*/, ""), FIRST_WITH_NODEJS24), own).toBe(true);
    const runtimes = new Set([...declared.standIns.of("sst:aws:Function").map((f) => f.args.runtime), ...declared.standIns.of("sst:aws:CronV2").map((c) => c.args.function.runtime)]);
    expect([...runtimes]).toEqual(["nodejs24.x"]);
  });
});

/**
 * The @pulumi/aws version SST deploys with. The `sst` package's CLI is a Go binary (in the
 * platform package `sst-<os>-<cpu>`) that embeds SST's platform code with its package.json,
 * which pins the provider: `sst install` installs that version.
 */
function sstPinnedAwsProvider(): string {
  // `sst` exports no package.json; its entry point is dist/index.js.
  const sstRoot = join(dirname(createRequire(join(ROOT, "package.json")).resolve("sst")), "..");
  const platformPackage = createRequire(join(sstRoot, "package.json")).resolve(`sst-${process.platform}-${process.arch}/package.json`);
  const binary = join(dirname(platformPackage), "bin/sst");
  const embedded = readFileSync(binary);
  const manifestAt = embedded.indexOf('"name": "@sst/platform"');
  expect(manifestAt, "SST's platform package.json inside its CLI").toBeGreaterThan(0);
  const manifest = embedded.subarray(manifestAt, manifestAt + 4000).toString("latin1");
  return /"@pulumi\/aws": "([^"]+)"/.exec(manifest)?.[1] ?? "";
}
