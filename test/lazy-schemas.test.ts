import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { handlerFile, routes } from "../packages/core/src/routes/index.ts";
import type { RouteDef } from "../packages/core/src/routes/types.ts";
import { startTestApi, type TestApi } from "./support/api.ts";

/**
 * A function serves one route: loading its handler must build no zod schema (cold start), and
 * its first request builds its own route's input schemas, once. Every call into zod/mini except
 * `config` builds (part of) a schema, so counting them catches any schema built at import,
 * whether or not it goes through lazySchema.
 */
const zod = vi.hoisted(() => ({ calls: [] as string[] }));

vi.mock("zod/mini", async (importOriginal) => {
  const counted = (name: string, fn: (...args: unknown[]) => unknown) =>
    function (this: unknown, ...args: unknown[]) {
      zod.calls.push(name);
      return fn.apply(this, args);
    };
  // Lower-case exports are functions (z.object, z.string, z.iso.datetime, …); upper-case ones are
  // classes that `instanceof` must still recognise, so they pass through untouched.
  const wrap = (namespace: Record<string, unknown>, prefix: string): Record<string, unknown> =>
    Object.fromEntries(Object.entries(namespace).map(([name, value]) => {
      if (name === "iso" || name === "coerce") return [name, wrap(value as Record<string, unknown>, `${name}.`)];
      if (typeof value !== "function" || !/^[a-z_]/.test(name) || name === "config") return [name, value];
      return [name, counted(prefix + name, value as (...args: unknown[]) => unknown)];
    }));
  return wrap(await importOriginal<Record<string, unknown>>(), "");
});

const ROOT = join(import.meta.dirname, "..");

/** The module graph anew, so every factory is unbuilt and every module's top level runs again. */
beforeEach(() => {
  vi.resetModules();
  zod.calls.length = 0;
});

describe("the counter", () => {
  it("sees a schema built through zod/mini", async () => {
    const { appParams } = await import("../packages/core/src/schemas.ts");
    expect(zod.calls).toEqual([]);
    appParams();
    expect(zod.calls).toEqual(expect.arrayContaining(["strictObject", "string", "regex"]));
  });
});

describe.each(routes.map((route) => [route.id, route] as const))("%s", (_id, listed) => {
  it("loads its handler without building any schema, then builds its own input's on first use, once", async () => {
    const { handler } = await import(join(ROOT, handlerFile(listed)));
    expect(zod.calls, "zod/mini calls while the handler module loaded").toEqual([]);

    const route = handler.route as RouteDef;
    const inputs = [route.params, route.query, route.body, route.headers].filter((factory) => factory !== undefined);
    const first = inputs.map((factory) => factory());
    const built = zod.calls.length;
    expect(built > 0, "first use builds the route's input schemas").toBe(inputs.length > 0);

    inputs.forEach((factory, i) => expect(factory(), "the same instance on later uses").toBe(first[i]));
    expect(zod.calls.length, "a later use builds nothing").toBe(built);

    if (route.response) {
      route.response();
      expect(zod.calls.length, "the response schema (read by the OpenAPI generator only) was not built with the input").toBeGreaterThan(built);
    }
  });
});

describe("the JWT claims schemas", () => {
  it("are built when the first token's claims are read, once", async () => {
    const { principalFromClaims } = await import("../packages/core/src/auth/principal.ts");
    expect(zod.calls).toEqual([]);
    const claims = { sub: "alice", org: "acme", role: "admin" };
    expect(principalFromClaims(claims)).toEqual({ kind: "member", ...claims });
    const built = zod.calls.length;
    expect(built).toBeGreaterThan(0);
    expect(principalFromClaims({ sub: "bob", platform: true, role: "operator" })).toEqual({ kind: "platform", sub: "bob", role: "operator" });
    expect(principalFromClaims({ sub: "carol", org: "acme", role: "admin" })?.kind).toBe("member");
    const platformBuilt = zod.calls.length;
    expect(principalFromClaims({ sub: "dave", platform: true, role: "operator" })?.kind).toBe("platform");
    expect(zod.calls.length, "a later token builds nothing").toBe(platformBuilt);
  });
});

describe("requests through the local gateway", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => api?.stop());

  it("build the route's input schemas on its first request, nothing on later ones, and never its response schema", async () => {
    const host = api.orgHost("acme");
    const token = api.tokens.member("acme", "owner");
    const created = await api.call(host, "POST", "/v1/apps", { token, body: { name: "lazy" } });
    expect(created.status, created.text).toBe(201);

    zod.calls.length = 0;
    const update = async (description: string) => {
      const reply = await api.call(host, "PATCH", `/v1/apps/${created.json.id}`, { token, body: { description } });
      expect(reply.status, reply.text).toBe(200);
    };
    await update("built on first use");
    const built = zod.calls.length;
    expect(built, "the first PATCH built its params and body schemas").toBeGreaterThan(0);
    await update("built once");
    expect(zod.calls.length, "a later request builds nothing").toBe(built);

    // The module instance the gateway loaded: its body schema is already built.
    const { handler } = await import(join(ROOT, "functions/src/apps/update.ts"));
    const route = handler.route as RouteDef;
    route.body!();
    expect(zod.calls.length).toBe(built);
    route.response!();
    expect(zod.calls.length, "no request built the response schema").toBeGreaterThan(built);
  });
});
