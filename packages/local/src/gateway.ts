import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { problems } from "@bulkhead/core/problem";
import { problemResponse } from "@bulkhead/core/http/problem-response";
import { handlerFile, matchPath, routes, type RouteDef } from "@bulkhead/core/routes";
import { lambdaContext } from "./lambda-context.ts";

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway's own payload limit. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export type GatewayOptions = {
  /** Repository root, where `functions/` lives. */
  root: string;
  baseDomain: string;
  /** The dev issuer's JWKS, served on the platform host only. */
  jwks: object;
};

/**
 * The offline stand-in for API Gateway (HTTP API, payload 2.0): it turns each HTTP request into
 * the event API Gateway would send, with the request's Host (port dropped) as the custom domain
 * it matched, and invokes the same handler module the route's Lambda runs.
 */
export function createGateway(options: GatewayOptions): Server {
  const handlers = new Map<string, Promise<Handler>>();
  const load = (route: RouteDef) => {
    let handler = handlers.get(route.id);
    if (!handler) {
      handler = import(pathToFileURL(join(options.root, handlerFile(route))).href).then((m) => m.handler as Handler);
      handlers.set(route.id, handler);
    }
    return handler;
  };

  return createServer(async (req, res) => {
    const requestId = randomUUID();
    try {
      const url = new URL(req.url ?? "/", "http://gateway.invalid");
      const domainName = (req.headers.host ?? "").replace(/:\d+$/, "");
      if (req.method === "GET" && url.pathname === "/.well-known/jwks.json" && domainName === options.baseDomain) {
        return send(res, { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(options.jwks) });
      }
      const match = matchRoute(req.method ?? "", url.pathname);
      if (!match) return send(res, problemResponse(problems.routeNotFound(), requestId));
      const body = await readBody(req);
      if (body === undefined) return send(res, problemResponse(problems.tooLarge(MAX_REQUEST_BYTES), requestId));
      const event = toEvent(req, url, domainName, match, body, requestId);
      const handler = await load(match.route);
      send(res, await handler(event, lambdaContext(`bulkhead-offline-${match.route.id.replace(".", "-")}`, requestId)));
    } catch (error) {
      console.error("gateway: handler failed outside its error middleware", error);
      send(res, problemResponse(problems.internal(), requestId));
    }
  });
}

function matchRoute(method: string, path: string) {
  for (const route of routes as readonly RouteDef[]) {
    if (route.method !== method) continue;
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  domainName: string,
  match: { route: RouteDef; params: Record<string, string> },
  body: Buffer,
  requestId: string,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const text = body.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(body);
  const routeKey = `${match.route.method} ${match.route.path}`;
  const now = new Date();
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(match.params).length ? match.params : undefined,
    body: body.length ? (isText ? text : body.toString("base64")) : undefined,
    isBase64Encoded: body.length > 0 && !isText,
    requestContext: {
      accountId: "offline",
      apiId: "offline",
      domainName,
      domainPrefix: domainName.split(".")[0] ?? "",
      http: {
        method: match.route.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies?.length) headers["set-cookie"] = result.cookies;
  res.writeHead(result.statusCode ?? 200, headers);
  const body = result.body ?? "";
  res.end(result.isBase64Encoded ? Buffer.from(body, "base64") : body);
}
