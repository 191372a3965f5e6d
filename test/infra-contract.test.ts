import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROTATION_DEFAULTS } from "../packages/core/src/config.ts";
import { TABLE_SCHEMA } from "../packages/core/src/data/table-schema.ts";
import { arn, awsLocation } from "../packages/core/src/iam/arn.ts";
import type { PolicyDocument } from "../packages/core/src/iam/document.ts";
import { platformNames } from "../packages/core/src/iam/names.ts";
import { KEK_ROTATION_JOB, SOURCE_UPLOADED_JOB } from "../packages/core/src/iam/jobs.ts";
import { functionAccess } from "../packages/core/src/iam/platform.ts";
import { hostedDeployRoleName } from "../packages/core/src/iam/deploy.ts";
import { handlerFile, routes } from "../packages/core/src/routes.ts";
import { stateMachines } from "../packages/core/src/workflows/machines.ts";
import { PRODUCTION_WORKFLOW_OPTIONS } from "../packages/core/src/workflows/options.ts";
import { taskFile, tasks, type TaskResources } from "../packages/core/src/workflows/tasks.ts";
import { handlerBundle } from "./support/bundle-links.ts";
import { decide, unknownActions, unneededStarResources, wildcardAllows } from "./support/iam.ts";
import { applyTransform, createStandIns, resolved, type StandIns } from "./support/sst-stand-ins.ts";

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
};
const location = awsLocation({ account: ACCOUNT, region: REGION });
const platform = platformNames({ stage: STAGE, account: ACCOUNT, region: REGION });

type Declared = {
  standIns: StandIns;
  outputs: Record<string, unknown>;
  /** Runs a recorded transform as SST would: later, with SST's globals in scope. */
  transform: <T extends object>(transform: unknown, args: T) => T;
};

async function declare(options: { dev?: boolean; env?: Record<string, string | undefined> } = {}): Promise<Declared> {
  const saved = { ...process.env };
  Object.assign(process.env, ENV, options.env);
  for (const [key, value] of Object.entries(options.env ?? {})) if (value === undefined) delete process.env[key];
  const standIns = createStandIns({ stage: STAGE, dev: options.dev ?? false, account: ACCOUNT, region: REGION });
  standIns.install();
  try {
    const config = (await import(pathToFileURL(join(ROOT, "sst.config.ts")).href)).default;
    const app = config.app({ stage: STAGE });
    expect(app).toMatchObject({ name: "bulkhead", home: "aws" });
    const outputs = await config.run();
    const transform = <T extends object>(fn: unknown, args: T): T => {
      standIns.install();
      try {
        return resolved(applyTransform(fn, args));
      } finally {
        standIns.uninstall();
      }
    };
    return { standIns, outputs, transform };
  } finally {
    standIns.uninstall();
    process.env = saved;
  }
}

/** The role SST would create for a function, then the function's own transform applied to it. */
function functionRoleArgs(fn: { args: any }, run: Declared = declared) {
  const sstDefaults = {
    assumeRolePolicy: '{"sst":"lambda trust"}',
    inlinePolicies: [{ name: "inline", policy: '{"sst":"link permissions"}' }],
    managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
  };
  return run.transform(fn.args.transform.role, sstDefaults) as any;
}

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
    expect(declared.standIns.routes).toHaveLength(routes.length);
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
    expect(all).toHaveLength(routes.length + tasks.length);
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
      .toEqual(["apps.list", "audit.checkpoints", "audit.export", "audit.list", "credentials.list", "deployments.list", "grants.list", "sources.list", "targets.list"]);
  });
});

describe("IAM in infra", () => {
  const allRoles = () => [
    ...declared.standIns.of("sst:aws:Function").map((fn) => ({ name: fn.name, args: functionRoleArgs(fn) })),
    ...declared.standIns.of("sst:aws:CronV2").map((cron) => ({ name: cron.name, args: functionRoleArgs({ args: cron.args.function }) })),
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
    // Functions (routes and tasks), the KEK-rotation job, the source-uploaded handler, the tenant data role, the hosted deploy role, the state machine's and the build project's.
    expect(roles.length).toBe(routes.length + tasks.length + 2 + 4);
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

  it("lets only the org-scoped functions', the tenant-reading tasks', the KEK-rotation job's and the source-uploaded handler's roles assume the tenant data role, after they exist", () => {
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
      arn.role(location, platform.jobRole(SOURCE_UPLOADED_JOB)),
    ].sort());
    expect(tenant.opts.dependsOn).toHaveLength(orgRoutes.length + tenantTasks.length + 2);
    expect(tenant.opts.dependsOn).toContain(declared.standIns.one("sst:aws:BucketNotification", "Artifacts-bucket-name-notifications").instance);
    expect(tenant.opts.dependsOn).toContain(declared.standIns.one("sst:aws:CronV2", "KekRotation").instance);
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
      "audit.verify": [{ Action: ["kms:Sign", "kms:GetPublicKey"], Resource: [keyArn] }],
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
    const index = TABLE_SCHEMA.indexes.kekRotation;
    expect(table.fields).toEqual({ PK: "string", SK: "string", [index.partitionKey]: "string", [index.sortKey]: "string" });
    expect(table.fields).toEqual({ PK: "string", SK: "string", kekRotationIndex: "string", kekRotatedAt: "string" });
    expect(table.primaryIndex).toEqual({ hashKey: TABLE_SCHEMA.partitionKey, rangeKey: TABLE_SCHEMA.sortKey });
    expect(table.ttl).toBe("expiresAt");
    expect(table.deletionProtection).toBe(true);
    const underlying = declared.transform(table.transform.table, { pointInTimeRecovery: { enabled: false } } as any);
    expect(underlying).toEqual({ name: "bulkhead-ci", pointInTimeRecovery: { enabled: true } });
  });

  it("declares every index of TABLE_SCHEMA, and only those, as a keys-only global index", () => {
    const table = declared.standIns.one("sst:aws:Dynamo", "Table").args;
    const index = TABLE_SCHEMA.indexes.kekRotation;
    expect(table.globalIndexes).toEqual({ [index.name]: { hashKey: index.partitionKey, rangeKey: index.sortKey, projection: "keys-only" } });
    expect(table.globalIndexes).toEqual({ "kek-rotation": { hashKey: "kekRotationIndex", rangeKey: "kekRotatedAt", projection: "keys-only" } });
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
      buildRolePath: "/bulkhead/build/",
      buildRolePermissionsBoundary: arn.managedPolicy(location, platform.buildRoleBoundary),
      hostedTargetRoleArn: arn.role(location, hostedDeployRoleName(STAGE)),
      hostedTargetRegion: REGION,
    });
    expect(resolved(declared.standIns.one("aws:codebuild:Project", "BuildProject").args).name).toBe(platform.buildProject);
  });

  it("runs the apply task as the platform deployer, which assumes only roles named bulkhead-deploy-*", () => {
    const role = taskRoleArgs("deploys.apply");
    expect(role.name).toBe(platform.deployerRole);
    const [policy] = policiesOf(role);
    const sts = policy!.Statement.filter((s) => s.Effect === "Allow" && s.Action?.some((a) => a.startsWith("sts:")));
    expect(sts.map((s) => [s.Sid, s.Resource])).toEqual([
      ["AssumeTenantData", [arn.role(location, platform.tenantDataRole)]],
      ["TagTenantSessionWithOrg", [arn.role(location, platform.tenantDataRole)]],
      ["AssumeDeployTargets", ["arn:aws:iam::*:role/bulkhead-deploy-*"]],
      ["TagDeploySessions", ["arn:aws:iam::*:role/bulkhead-deploy-*"]],
    ]);
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
  const indexArn = `${arn.table(location, platform.table)}/index/${TABLE_SCHEMA.indexes.kekRotation.name}`;

  it("runs daily on EventBridge Scheduler, as a nodejs24.x function of the shared defaults with a handler file that exists", () => {
    expect(declared.standIns.of("sst:aws:CronV2")).toHaveLength(1);
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
    const [file] = fn().handler.split(/\.(?=[^.]+$)/);
    const bundle = await handlerBundle(join(ROOT, `${file}.ts`));
    expect(bundle.packages.filter((p) => p.startsWith("@cloud-copilot/"))).toEqual([]);
    const linkName = (resource: unknown) => declared.standIns.records.find((r) => r.instance === resource)!.name;
    expect(fn().link.map(linkName).sort()).toEqual(bundle.links);
    expect(bundle.links).toEqual(["KeyStore", "Table", "TenantData"]);
  });

  it("runs under its own generated role: its log group, Query on the kek-rotation index, the tenant data role with an org tag", async () => {
    const args = role();
    expect(args.name).toBe(platform.jobRole(KEK_ROTATION_JOB));
    expect(args.managedPolicyArns).toEqual([]);
    expect(JSON.parse(args.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "lambda.amazonaws.com" });
    const [policy] = policiesOf(args);
    expect(policy!.Statement.map((s) => [s.Sid, s.Effect, s.Action, s.Resource])).toEqual([
      ["WriteOwnLogs", "Allow", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${arn.logGroup(location, `/aws/lambda/${platform.jobFunction(KEK_ROTATION_JOB)}`)}:*`]],
      ["QueryKekRotationIndex", "Allow", ["dynamodb:Query"], [indexArn]],
      ["AssumeTenantData", "Allow", ["sts:AssumeRole"], [arn.role(location, platform.tenantDataRole)]],
      ["TagTenantSessionWithOrg", "Allow", ["sts:TagSession"], [arn.role(location, platform.tenantDataRole)]],
      ["DenyScan", "Deny", ["dynamodb:Scan"], [arn.table(location, platform.table), arn.tableIndexes(location, platform.table)]],
    ]);
    expect(wildcardAllows(policy!)).toEqual([]);
    const asJob = (action: string, resource: string, context: Record<string, string | string[]>) =>
      decide({ principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${args.name}/s`, action, resource, context, identity: [policy!] });
    expect(await asJob("dynamodb:Query", indexArn, { "dynamodb:LeadingKeys": [TABLE_SCHEMA.indexes.kekRotation.partitionValue] })).toBe("Allowed");
    expect(await asJob("dynamodb:Query", arn.table(location, platform.table), { "dynamodb:LeadingKeys": ["ORG#acme"] })).toBe("ImplicitlyDenied");
    expect(await asJob("secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bulkhead/acme/web/kek-Ab12Cd`, {})).toBe("ImplicitlyDenied");
  });
});
