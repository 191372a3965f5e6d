import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TABLE_SCHEMA } from "../packages/core/src/data/table-schema.ts";
import { arn, awsLocation } from "../packages/core/src/iam/arn.ts";
import type { PolicyDocument } from "../packages/core/src/iam/document.ts";
import { platformNames } from "../packages/core/src/iam/names.ts";
import { functionAccess } from "../packages/core/src/iam/platform.ts";
import { handlerFile, routes } from "../packages/core/src/routes.ts";
import { handlerBundle } from "./support/bundle-links.ts";
import { unknownActions, unneededStarResources, wildcardAllows } from "./support/iam.ts";
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

describe("the route table in infra", () => {
  const functions = () => declared.standIns.of("sst:aws:Function");
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

  it("runs every function on nodejs24.x, arm64, as a minified ESM bundle with its own log group", () => {
    for (const fn of functions()) {
      expect(fn.args).toMatchObject({ runtime: "nodejs24.x", architecture: "arm64", nodejs: { format: "esm", minify: true } });
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
      .toEqual(["apps.list", "audit.checkpoints", "audit.export", "audit.list", "credentials.list", "deployments.list", "grants.list", "targets.list"]);
  });
});

describe("IAM in infra", () => {
  const allRoles = () => [
    ...declared.standIns.of("sst:aws:Function").map((fn) => ({ name: fn.name, args: functionRoleArgs(fn) })),
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

  it("grants no '*' action, and a '*' resource only where AWS has no narrower one", async () => {
    const roles = allRoles();
    expect(roles.length).toBe(routes.length + 2);
    for (const role of roles) {
      for (const policy of [...policiesOf(role.args), JSON.parse(role.args.assumeRolePolicy)]) {
        expect(wildcardAllows(policy), role.name).toEqual([]);
        expect(await unneededStarResources(policy), role.name).toEqual([]);
        expect(await unknownActions(policy), role.name).toEqual([]);
      }
    }
  });

  it("lets only the org-scoped functions' roles assume the tenant data role, after they exist", () => {
    const tenant = declared.standIns.one("aws:iam:Role", "TenantDataRole");
    const trust = JSON.parse(resolved(tenant.args).assumeRolePolicy);
    const orgRoutes = routes.filter((r) => r.host === "org");
    expect(orgRoutes.length).toBeGreaterThan(0);
    expect([...trust.Statement[0].Principal.AWS].sort()).toEqual(orgRoutes.map((r) => arn.role(location, platform.functionRole(r.id))).sort());
    expect(tenant.opts.dependsOn).toHaveLength(orgRoutes.length);
    expect(resolved(tenant.args).name).toBe(platform.tenantDataRole);
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
    expect(table.fields).toEqual({ PK: "string", SK: "string" });
    expect(table.primaryIndex).toEqual({ hashKey: TABLE_SCHEMA.partitionKey, rangeKey: TABLE_SCHEMA.sortKey });
    expect(table.ttl).toBe("expiresAt");
    expect(table.deletionProtection).toBe(true);
    const underlying = declared.transform(table.transform.table, { pointInTimeRecovery: { enabled: false } } as any);
    expect(underlying).toEqual({ name: "bulkhead-ci", pointInTimeRecovery: { enabled: true } });
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
