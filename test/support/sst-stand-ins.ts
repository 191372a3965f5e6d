/**
 * Recording stand-ins for the globals SST gives sst.config.ts and infra/ (`$config`, `$app`,
 * `$dev`, `$output`, `sst`, `aws`). Each constructor records its name, args and options, and
 * returns an object with the outputs infra reads. Outputs here are already resolved: `apply`
 * runs at once, so the recorded args can be inspected as plain values. Each output also keeps
 * the resources it came from (as Pulumi's outputs do), so a test can tell which resources a
 * declaration waits for through its inputs.
 */

export class Out<T> {
  constructor(readonly value: T, readonly sources: ReadonlySet<object> = sourcesIn(value)) {}
  apply<U>(fn: (value: T) => U): Out<U extends Out<infer V> ? V : U> {
    const result = fn(this.value);
    return new Out(result instanceof Out ? result.value : result, new Set([...this.sources, ...sourcesIn(result)])) as never;
  }
}

export function out<T>(value: T | Out<T>): Out<T> {
  return value instanceof Out ? value : new Out(value);
}

const isPlain = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype;

/** The resources every output inside a value comes from. */
export function sourcesIn(value: unknown, found = new Set<object>()): Set<object> {
  if (value instanceof Out) {
    for (const source of value.sources) found.add(source);
    sourcesIn(value.value, found);
  } else if (Array.isArray(value)) {
    for (const item of value) sourcesIn(item, found);
  } else if (isPlain(value)) {
    for (const item of Object.values(value)) sourcesIn(item, found);
  }
  return found;
}

/** A value with every output inside replaced by what it holds. */
export function resolved(value: unknown): any {
  if (value instanceof Out) return resolved(value.value);
  if (Array.isArray(value)) return value.map(resolved);
  if (isPlain(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolved(v)]));
  return value;
}

/** A resource's outputs: each comes from that resource. */
function ownedBy(resource: object, value: unknown): any {
  if (value instanceof Out) return new Out(ownedBy(resource, value.value), new Set([resource]));
  if (Array.isArray(value)) return value.map((item) => ownedBy(resource, item));
  if (isPlain(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, ownedBy(resource, v)]));
  return value;
}

/** The partition AWS gives a region's ARNs. */
export const partitionOf = (region: string) => (region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws");

export type Record_ = { type: string; name: string; args: any; opts: any; instance: any };

export type StandIns = ReturnType<typeof createStandIns>;

export function createStandIns(options: { stage: string; dev: boolean; account: string; region: string }) {
  const records: Record_[] = [];
  const routes: { api: string; rawRoute: string; handler: unknown; args: unknown }[] = [];
  const wraps: { type: string; callback: (resource: any) => any }[] = [];
  const aliases: { namePrefix: string; record: any }[] = [];

  const record = (type: string, name: string, args: any, opts: any, instance: any) => {
    if (records.some((r) => r.type === type && r.name === name)) throw new Error(`duplicate ${type} "${name}"`);
    records.push({ type, name, args, opts, instance });
  };

  const resource = (type: string, outputs: (name: string, args: any) => Record<string, unknown>) =>
    class {
      static __type = type;
      constructor(name: string, args: any = {}, opts: any = {}) {
        Object.assign(this, ownedBy(this, outputs(name, args)));
        record(type, name, args, opts, this);
      }
    };

  const BucketNotification = resource("sst:aws:BucketNotification", () => ({}));

  const partition = partitionOf(options.region);
  const arnOf = (service: string, kind: string, name: string) => `arn:${partition}:${service}:${options.region}:${options.account}:${kind}${name}`;

  class ApiGatewayV2 {
    static __type = "sst:aws:ApiGatewayV2";
    nodes: { api: { id: Out<string> } };
    url: Out<string>;
    constructor(readonly name: string, args: any = {}, opts: any = {}) {
      this.nodes = ownedBy(this, { api: { id: out(`${name}-api-id`) } });
      this.url = ownedBy(this, out(`https://${resolved(args.domain)?.name ?? "execute-api"}`));
      record(ApiGatewayV2.__type, name, args, opts, this);
    }
    route(rawRoute: string, handler: unknown, args: unknown = {}) {
      routes.push({ api: this.name, rawRoute, handler, args });
    }
  }

  const sst = {
    Linkable: Object.assign(
      resource("sst:sst:Linkable", (name, args) => ({ name: out(name), properties: args.properties })),
      {
        wrap(cls: { __type: string }, callback: (resource: any) => any) {
          wraps.push({ type: cls.__type, callback });
        },
      },
    ),
    Secret: resource("sst:sst:Secret", (name) => ({ name: out(name), value: out(`stand-in-secret-value-of-${name}`) })),
    aws: {
      Dynamo: class extends resource("sst:aws:Dynamo", (name) => ({ name: out(`${name}-table-name`), arn: out(arnOf("dynamodb", "table/", name)) })) {
        /**
         * SST makes the subscriber function and its event source mapping; the stand-in records
         * both, with the mapping's args as its `transform.eventSourceMapping` leaves them.
         */
        subscribe(name: string, subscriber: any, args: any = {}) {
          const mapping: Record<string, unknown> = {};
          args.transform?.eventSourceMapping?.(mapping);
          const subscription = { nodes: { function: out({ arn: out(arnOf("lambda", "function:", resolved(subscriber)?.name ?? name)) }) } };
          record("sst:aws:DynamoLambdaSubscriber", name, { subscriber, filters: args.filters, eventSourceMapping: mapping }, {}, subscription);
          return subscription;
        }
      },
      Bucket: class extends resource("sst:aws:Bucket", (name) => ({ name: out(`${name}-bucket-name`), arn: out(`arn:${partition}:s3:::${name}`) })) {
        // SST creates the notification's functions (from each `function`'s args) and the bucket notification inside.
        notify(args: any) {
          return new BucketNotification(`${resolved((this as any).name)}-notifications`, args);
        }
      },
      Function: resource("sst:aws:Function", (name, args) => ({ name: out(args.name ?? name), arn: out(arnOf("lambda", "function:", args.name ?? name)) })),
      // SST creates the function (from `function`'s args) and its EventBridge Scheduler schedule inside.
      CronV2: resource("sst:aws:CronV2", (name, args) => ({ nodes: { function: out({ arn: out(arnOf("lambda", "function:", resolved(args.function)?.name ?? name)) }) } })),
      DnsValidatedCertificate: resource("sst:aws:Certificate", (name) => ({ arn: out(arnOf("acm", "certificate/", name)) })),
      ApiGatewayV2,
      dns: (args: unknown = {}) => ({
        provider: "aws",
        args,
        createAlias: (namePrefix: string, rec: unknown) => void aliases.push({ namePrefix, record: rec }),
        createRecord: () => undefined,
        createCaa: () => undefined,
      }),
    },
  };

  const aws = {
    getCallerIdentity: async () => ({ accountId: options.account }),
    getRegion: async () => ({ region: options.region }),
    kms: { Key: resource("aws:kms:Key", (name) => ({ arn: out(arnOf("kms", "key/", name)) })) },
    iam: {
      Role: resource("aws:iam:Role", (name, args) => ({ arn: out(args.name ?? name).apply((n) => `arn:${partition}:iam::${options.account}:role/${n}`) })),
      Policy: resource("aws:iam:Policy", (name, args) => ({ arn: out(`arn:${partition}:iam::${options.account}:policy/${args.name ?? name}`) })),
    },
    sfn: { StateMachine: resource("aws:sfn:StateMachine", (name, args) => ({ arn: out(arnOf("states", "stateMachine:", args.name ?? name)) })) },
    codebuild: { Project: resource("aws:codebuild:Project", (name, args) => ({ name: out(args.name ?? name), arn: out(arnOf("codebuild", "project/", args.name ?? name)) })) },
    cloudwatch: {
      EventRule: resource("aws:cloudwatch:EventRule", (name) => ({ name: out(name), arn: out(arnOf("events", "rule/", name)) })),
      EventTarget: resource("aws:cloudwatch:EventTarget", (name) => ({ id: out(name) })),
    },
    lambda: { Permission: resource("aws:lambda:Permission", (name) => ({ id: out(name) })) },
    apigatewayv2: {
      DomainName: resource("aws:apigatewayv2:DomainName", (name) => ({
        id: out(`${name}-id`),
        domainNameConfiguration: out({ targetDomainName: `${name}.execute-api.example`, hostedZoneId: "ZAPIGW" }),
      })),
      ApiMapping: resource("aws:apigatewayv2:ApiMapping", (name) => ({ id: out(`${name}-id`) })),
    },
  };

  const globals: Record<string, unknown> = {
    $config: (config: unknown) => config,
    $app: { name: "bulkhead", stage: options.stage, protect: false, removal: "remove" },
    $dev: options.dev,
    $output: out,
    $interpolate: (strings: TemplateStringsArray, ...values: unknown[]) =>
      new Out(strings.reduce((text, s, i) => text + s + (i < values.length ? resolved(values[i]) : ""), ""), sourcesIn(values)),
    sst,
    aws,
  };

  return {
    partition,
    records,
    routes,
    wraps,
    aliases,
    install() {
      for (const [key, value] of Object.entries(globals)) (globalThis as any)[key] = value;
    },
    uninstall() {
      for (const key of Object.keys(globals)) delete (globalThis as any)[key];
    },
    of: (type: string) => records.filter((r) => r.type === type),
    one(type: string, name: string) {
      const found = records.find((r) => r.type === type && r.name === name);
      if (!found) throw new Error(`no ${type} "${name}" was declared`);
      return found;
    },
  };
}

/** SST's own `transform` semantics (platform/src/components/component.ts): a function mutates, an object merges. */
export function applyTransform<T extends object>(transform: unknown, args: T): T {
  if (typeof transform === "function") {
    transform(args, {}, "name");
    return args;
  }
  return { ...args, ...(transform as object) };
}
