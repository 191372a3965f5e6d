import { randomUUID } from "node:crypto";
import { isRatePartition } from "../../packages/core/src/data/keys.ts";
import { platformTable, tenantTable } from "../../packages/core/src/data/tables.ts";

/**
 * The DynamoDB commands `request` sends through `org`'s handle and the platform's, by name and
 * sorted: what the handlers of the in-process API spend, counted as bench/calls.ts counts them.
 * Warm the org lookup first when it should not count. Request-rate draws are not counted.
 */
export async function commandsSent<T>(org: string, request: () => Promise<T>): Promise<{ result: T; sent: string[] }> {
  const sent: string[] = [];
  const name = `count-${randomUUID()}`;
  const stacks = [tenantTable(org).client.middlewareStack, platformTable().client.middlewareStack];
  for (const stack of stacks) {
    stack.add((next, context) => (args) => {
      // Request-rate draws (limits/rate.ts) come once per many requests, before the route's work: not the route's.
      if (!isRatePartition((args.input as { Key?: { PK?: unknown } }).Key?.PK)) sent.push(String(context.commandName));
      return next(args);
    }, { step: "initialize", name });
  }
  try {
    return { result: await request(), sent: sent.sort() };
  } finally {
    for (const stack of stacks) stack.remove(name);
  }
}
