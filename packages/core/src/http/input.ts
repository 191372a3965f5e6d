import type { MiddlewareObj } from "@middy/core";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import type { RouteDef } from "../routes/types.ts";
import { problems } from "./problems.ts";
import type { ApiRequest } from "./state.ts";

export const MAX_BODY_BYTES = 64 * 1024;

// zod/mini ships without messages; English ones name the offending field ("Unrecognized key: …").
z.config(en());

/** Refuses oversized bodies before anything parses them. */
export const bodyLimit = (): MiddlewareObj<any, any, Error, any, any> => ({
  before: (request: ApiRequest) => {
    const { body, isBase64Encoded } = request.event;
    if (body === undefined) return;
    const bytes = isBase64Encoded ? Buffer.byteLength(body, "base64") : Buffer.byteLength(body, "utf8");
    if (bytes > MAX_BODY_BYTES) throw problems.tooLarge(MAX_BODY_BYTES);
  },
});

/**
 * Validates path, query and (parsed) body against the route's schemas. Schemas are strict, so
 * unknown fields are refused rather than silently dropped (no mass assignment).
 */
export const validateInput = (route: RouteDef): MiddlewareObj<any, any, Error, any, any> => ({
  before: (request: ApiRequest) => {
    const { pathParameters, queryStringParameters, body, headers } = request.event;
    request.context.input = {
      params: route.params ? route.params().parse(pathParameters ?? {}) : {},
      query: route.query ? route.query().parse(queryStringParameters ?? {}) : {},
      body: route.body ? route.body().parse(body) : undefined,
      headers: route.headers ? route.headers().parse(headers ?? {}) : {},
    };
  },
});
