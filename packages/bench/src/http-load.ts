import { Agent, request } from "node:http";
import { round, summarize } from "./stats.ts";

/** One request of a load, and the only status it may answer. */
export type LoadRequest = { host: string; method: string; path: string; headers?: Record<string, string>; body?: string; expect: number };

const latencySummary = (samples: number[]) => {
  const { n, median, p99, min } = summarize(samples);
  return { n, median: round(median), p99: round(p99), min: round(min) };
};

/**
 * Sends `total` requests, `concurrency` at a time, over keep-alive; latency in ms. Any answer
 * other than the request's `expect` status fails the bench with that answer: a load that
 * silently measured 4xx or 5xx responses would report the speed of refusing, not of the route.
 */
export async function load(port: number, make: (i: number) => LoadRequest, total: number, concurrency: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const one = (spec: LoadRequest) =>
    new Promise<void>((resolve, reject) => {
      const start = process.hrtime.bigint();
      const req = request({ host: "127.0.0.1", port, agent, method: spec.method, path: spec.path, headers: { host: spec.host, ...spec.headers } }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        // The body is read either way (keep-alive needs it drained); it is kept only for the error.
        res.on("data", (chunk: Buffer) => status !== spec.expect && chunks.push(chunk));
        res.on("end", () => {
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === spec.expect) return resolve();
          const body = Buffer.concat(chunks).toString("utf8").slice(0, 1000);
          reject(new Error(`bench: ${spec.method} ${spec.path} answered ${status}, not ${spec.expect}: ${body}`));
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(spec.body);
    });
  const started = process.hrtime.bigint();
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      try {
        while (next < total) await one(make(next++));
      } catch (error) {
        next = total; // the other workers stop at their next request
        throw error;
      }
    }));
  } finally {
    agent.destroy();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { requests: total, requestsPerSecond: Math.round(total / seconds), latencyMs: latencySummary(latencies), statuses: Object.fromEntries(statuses) };
}

/** The same shape of load against any async operation (for floors measured in-process). */
export async function loadFn(fn: (i: number) => Promise<unknown>, total: number, concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const i = next++;
      const start = process.hrtime.bigint();
      await fn(i);
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { requests: total, requestsPerSecond: Math.round(total / seconds), latencyMs: latencySummary(latencies) };
}
