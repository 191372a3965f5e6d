import { randomBytes } from "node:crypto";
import { GetItemCommand, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { pendingCount } from "@bulkhead/core/audit/read";
import { keys, ratePartition } from "@bulkhead/core/data/keys";
import { tenantTable } from "@bulkhead/core/data/tables";
import { routeById, type RouteId } from "@bulkhead/core/routes";
import type { RouteDef } from "@bulkhead/core/routes/types";
import { gatewayClient, type GatewayClient } from "@bulkhead/local/client";
import { localClient } from "@bulkhead/local/dynamodb";
import { load, loadFn, type LoadRequest } from "./http-load.ts";
import { benchOffline } from "./offline.ts";
import { round } from "./stats.ts";

const ORG = "acme";
const CONCURRENCY = 16;
/** The orgs of the many-orgs writes: CONCURRENCY of them, each request of the load to the next. */
const MANY_ORGS = Array.from({ length: CONCURRENCY }, (_, i) => `bench-org-${i + 1}`);
/**
 * Untimed requests per route before its timed ones: they load the handler module, fetch the
 * JWKS, cache the org and let V8 optimise, so the timed requests measure a warm function. The
 * apps they create also give `GET /v1/apps` a full default page.
 */
const WARMUP = { requests: 50, concurrency: 4 };
/**
 * Timed requests per route and round (and calls for each floor): enough for a p99 that is not
 * one outlier (the 10th, 5th and 3rd slowest), few enough for the bench to take about two minutes.
 */
const REQUESTS = { list: 1000, putCredential: 500, createApp: 300, floor: 500 };
/**
 * Each write is timed this many times, each time against its own floor, and judged by each
 * ratio's median over the rounds: on a shared 2-core machine one load's figures swing by a third
 * from one minute to the next.
 */
const ROUNDS = 3;
/**
 * The write goals, against DynamoDB Local's own TransactWriteItems of two items at the same
 * concurrency (what an audited write is at least: its change and its record in one transaction).
 */
const WRITE_GOALS = { p99AtMost: 4, throughputAtLeast: 0.5 };
/**
 * Every credential name is written this often in the timed PUTs: the first write creates it,
 * the others replace it (a new version of an existing item, as a rotating client would).
 * The writes of one name are REQUESTS.putCredential / WRITES_PER_NAME requests apart, far more
 * than the CONCURRENCY in flight, so they never race each other.
 */
const WRITES_PER_NAME = 2;
/** Untimed calls of each floor before anything is timed (see the JIT note in endToEnd). */
const JIT_WARMUP = 3000;
/** The transaction sizes measured on their own, beside the routes (the floor is the first). */
const TRANSACTION_SIZES = [2, 4, 6];

type Figures = Awaited<ReturnType<typeof loadFn>>;
type Timed = Figures & { floor: Figures };
type Ratios = { median: number; p99: number; throughput: number };

const ratiosOf = ({ floor, ...figures }: Timed): Ratios => ({
  median: round(figures.latencyMs.median / floor.latencyMs.median),
  p99: round(figures.latencyMs.p99 / floor.latencyMs.p99),
  throughput: round(figures.requestsPerSecond / floor.requestsPerSecond),
});

const middle = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Each ratio's median over the rounds. */
const medianRatios = (rounds: readonly Timed[]): Ratios => {
  const each = rounds.map(ratiosOf);
  return { median: middle(each.map((r) => r.median)), p99: middle(each.map((r) => r.p99)), throughput: middle(each.map((r) => r.throughput)) };
};

/** Waits until the sequencer has placed every audit record of `org`. */
async function auditCaughtUp(org: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await pendingCount(tenantTable(org)))) return;
    if (Date.now() > deadline) throw new Error(`bench: the audit records of ${org} were still waiting after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Rates above the bench's load and quotas above what it creates. */
const BENCH_LIMITS = {
  requestsPerSecond: 10_000, requestBurst: 20_000, principalRequestsPerSecond: 10_000, principalRequestBurst: 20_000,
  apps: 10_000, credentialsPerApp: 10_000,
};

/**
 * Counts the request-rate draws (UpdateItem on the org's rate partition) the in-process API sends
 * through the org's handle, until `stop`.
 */
function countRateDraws(org: string): { stop: () => number } {
  let draws = 0;
  const name = `bench-rate-draws-${org}`;
  const stack = tenantTable(org).client.middlewareStack;
  stack.add((next) => (args) => {
    if ((args.input as { Key?: { PK?: unknown } }).Key?.PK === ratePartition(org)) draws++;
    return next(args);
  }, { step: "initialize", name });
  return { stop: () => (stack.remove(name), draws) };
}

type Route = { route: RouteDef; token: string };

/** A route of the table with a member token of exactly the role it requires. */
function memberRoute(api: GatewayClient, id: RouteId, org = ORG): Route & { org: string } {
  const route = routeById(id);
  if (!("member" in route.access)) throw new Error(`bench: ${id} is not a member route`);
  return { route, token: api.tokens.member(org, route.access.member, "bench"), org };
}

function request(api: GatewayClient, { route, token, org }: Route & { org: string }, params: Record<string, string>, body?: unknown): LoadRequest {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]!));
  return {
    host: api.orgHost(org),
    method: route.method,
    path,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    expect: route.status,
  };
}

/** An API-key-sized credential value. */
const secretValue = () => randomBytes(24).toString("base64url");

/**
 * Bench 3: requests/s and latency through the local gateway against DynamoDB Local (every
 * answer checked against the route's success status), beside DynamoDB Local's own GetItem
 * round trip at the same concurrency: the floor any request that reads the table pays.
 */
export async function endToEnd() {
  const offline = await benchOffline();
  try {
    const api = gatewayClient(offline.port, offline.issuer);
    const list = memberRoute(api, "apps.list");
    const create = memberRoute(api, "apps.create");
    const put = memberRoute(api, "credentials.put");
    const newApp = async (name: string, org = ORG): Promise<string> => {
      const reply = await api.call(api.orgHost(org), "POST", "/v1/apps", { token: memberRoute(api, "apps.create", org).token, body: { name } });
      if (reply.status !== 201) throw new Error(`bench setup: POST /v1/apps answered ${reply.status}: ${reply.text}`);
      return reply.json.id;
    };
    const benchApp = await newApp("bench-credentials");
    const warmupApp = await newApp("bench-warmup");
    for (const slug of MANY_ORGS) {
      const reply = await api.call(api.platformHost, "POST", "/v1/orgs", { token: api.tokens.platform("platform-admin"), body: { slug, name: slug } });
      if (reply.status !== 201) throw new Error(`bench setup: POST /v1/orgs answered ${reply.status}: ${reply.text}`);
    }
    // Limits that admit the bench's load (the request-rate limit still runs on every request and
    // draws from its buckets; the bench counts those draws), so it measures the path, not refusals.
    for (const slug of [ORG, ...MANY_ORGS]) {
      const reply = await api.call(api.platformHost, "PATCH", `/v1/orgs/${slug}`, { token: api.tokens.platform("platform-admin"), body: { limits: BENCH_LIMITS } });
      if (reply.status !== 200) throw new Error(`bench setup: PATCH /v1/orgs answered ${reply.status}: ${reply.text}`);
    }
    const manyOrgs = await Promise.all(MANY_ORGS.map(async (org) => ({
      put: memberRoute(api, "credentials.put", org), create: memberRoute(api, "apps.create", org), app: await newApp("bench-credentials", org),
    })));

    await load(offline.port, (i) => request(api, create, {}, { name: `warmup-${i}` }), WARMUP.requests, WARMUP.concurrency);
    await load(offline.port, (i) => request(api, put, { appId: warmupApp, name: `warmup-${i}` }, { value: secretValue() }), WARMUP.requests, WARMUP.concurrency);
    await load(offline.port, () => request(api, list, {}), WARMUP.requests, WARMUP.concurrency);

    const client = localClient(offline.dynamoEndpoint);
    const key = keys.orgRecord(ORG);
    const getItem = () => client.send(new GetItemCommand({ TableName: offline.config.tableName, Key: { PK: { S: key.PK }, SK: { S: key.SK } } }));
    /** A transaction of `items` new items of one org: with two, what an audited write is at least (its change and its record). */
    const putItems = (items: number) => (i: number) => client.send(new TransactWriteItemsCommand({
      TransactItems: Array.from({ length: items }, (_, side) => ({ Put: { TableName: offline.config.tableName, Item: { PK: { S: `ORG#${ORG}#FLOOR` }, SK: { S: `${side}#${i}#${randomBytes(6).toString("hex")}` } }, ConditionExpression: "attribute_not_exists(PK)" } })),
    }));
    const put2 = putItems(2);
    // DynamoDB Local is a JVM: its first few thousand calls run slower while its JIT compiles them.
    // Untimed here, so neither the floors nor the routes timed first pay for it.
    await loadFn(getItem, JIT_WARMUP, CONCURRENCY);
    await loadFn(put2, JIT_WARMUP, CONCURRENCY);

    /**
     * Each timed load starts with no audit record of an earlier load still waiting (the sequencer's
     * backlog would slow whatever ran next), and is read against its floor measured right before
     * it: the same table, the same warm JVM.
     */
    const settled = async () => {
      for (const org of [ORG, ...MANY_ORGS]) await auditCaughtUp(org);
    };
    const timed = async (floor: () => Promise<Figures>, run: () => Promise<Figures>): Promise<Timed> => {
      await settled();
      const against = await floor();
      return { ...(await run()), floor: against };
    };
    const getItemFloor = () => loadFn(getItem, REQUESTS.floor, CONCURRENCY);
    const transactFloor = () => loadFn(put2, REQUESTS.floor, CONCURRENCY);
    /** A write timed ROUNDS times (`make` gets the round and the request's index), each round against its own floor. */
    const write = async (make: (round: number, i: number) => LoadRequest, requests: number) => {
      const rounds: Timed[] = [];
      for (let r = 0; r < ROUNDS; r++) rounds.push(await timed(transactFloor, () => load(offline.port, (i) => make(r, i), requests, CONCURRENCY)));
      return { vsFloor: medianRatios(rounds), rounds };
    };

    const names = REQUESTS.putCredential / WRITES_PER_NAME;
    const draws = countRateDraws(ORG);
    const read = await timed(getItemFloor, () => load(offline.port, () => request(api, list, {}), REQUESTS.list, CONCURRENCY));
    const oneOrg = {
      "PUT /v1/apps/{appId}/credentials/{name}": await write((r, i) =>
        request(api, put, { appId: benchApp, name: `bench-${r}-${i % names}` }, { value: secretValue() }), REQUESTS.putCredential),
      "POST /v1/apps": await write((r, i) => request(api, create, {}, { name: `bench-${r}-${i}` }), REQUESTS.createApp),
    };
    const rateDrawsPerRequest = round(draws.stop() / (REQUESTS.list + ROUNDS * (REQUESTS.putCredential + REQUESTS.createApp)));
    await expectCredentialVersions(api, benchApp, put.token, ROUNDS * names);
    // The same writes with 16 orgs at once: request i goes to org i mod 16.
    const orgOf = (i: number) => manyOrgs[i % manyOrgs.length]!;
    const sixteenOrgs = {
      "PUT /v1/apps/{appId}/credentials/{name}": await write((r, i) =>
        request(api, orgOf(i).put, { appId: orgOf(i).app, name: `many-${r}-${i}` }, { value: secretValue() }), REQUESTS.putCredential),
      "POST /v1/apps": await write((r, i) => request(api, orgOf(i).create, {}, { name: `bench-${r}-${i}` }), REQUESTS.createApp),
    };

    // What a transaction's size costs on its own: a route whose change is several items (POST /v1/apps
    // writes its app, three listing heads, a quota count and its record) pays this before anything else.
    const transactionsBySize: Record<string, Figures> = {};
    for (const items of TRANSACTION_SIZES) {
      await settled();
      transactionsBySize[`${items} items`] = await loadFn(putItems(items), REQUESTS.floor, CONCURRENCY);
    }

    const writes = { oneOrg, sixteenOrgs };
    const writeGoals = Object.fromEntries(Object.entries(writes).flatMap(([where, set]) => Object.entries(set).map(([name, { vsFloor }]) =>
      [`${where} ${name}`, { ...vsFloor, met: vsFloor.p99 <= WRITE_GOALS.p99AtMost && vsFloor.throughput >= WRITE_GOALS.throughputAtLeast }])));
    return {
      concurrency: CONCURRENCY,
      warmup: { ...WARMUP, dynamoDbLocalJit: JIT_WARMUP },
      floors: `each load's \`floor\` is measured right before it: GetItem for the read, a two-item TransactWriteItems for the writes; each write is timed in ${ROUNDS} rounds and judged by each ratio's median over them`,
      rateLimit: { limits: BENCH_LIMITS, drawsPerRequest: rateDrawsPerRequest },
      read: { "GET /v1/apps": { ...read, vsFloor: ratiosOf(read) } },
      writes,
      transactionsBySize: Object.fromEntries(Object.entries(transactionsBySize).map(([size, figures]) => [size, {
        ...figures, throughputVsTwoItems: round(figures.requestsPerSecond / transactionsBySize["2 items"]!.requestsPerSecond),
      }])),
      writeGoals: { goal: `p99 ≤ ${WRITE_GOALS.p99AtMost}× and throughput ≥ ${WRITE_GOALS.throughputAtLeast}× of the TransactWriteItems floor`, ...writeGoals },
    };
  } finally {
    await offline.stop();
  }
}

/**
 * The timed PUTs did what they claim: every name exists once, at version WRITES_PER_NAME (so
 * the overwrites replaced it rather than failing or creating duplicates). Read through the API.
 */
async function expectCredentialVersions(api: GatewayClient, app: string, token: string, names: number) {
  const versions = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const reply = await api.call(api.orgHost(ORG), "GET", `/v1/apps/${app}/credentials?${query}`, { token });
    if (reply.status !== 200) throw new Error(`bench check: listing credentials answered ${reply.status}: ${reply.text}`);
    for (const item of reply.json.items as { name: string; version: number }[]) versions.set(item.name, item.version);
    cursor = reply.json.cursor;
  } while (cursor);
  const wrong = [...versions].filter(([, version]) => version !== WRITES_PER_NAME);
  if (versions.size !== names || wrong.length > 0) {
    throw new Error(`bench check: expected ${names} credentials at version ${WRITES_PER_NAME}; found ${versions.size}, wrong versions ${JSON.stringify(wrong.slice(0, 5))}`);
  }
}
