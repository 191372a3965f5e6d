import { Agent, request } from "node:http";
import { summarize } from "./stats.ts";

export type LoadRequest = { host: string; method: string; path: string; headers?: Record<string, string>; body?: string };

/** Sends `total` requests, `concurrency` at a time, over keep-alive; latency in ms. */
export async function load(port: number, make: (i: number) => LoadRequest, total: number, concurrency: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const one = (spec: LoadRequest) =>
    new Promise<void>((resolve, reject) => {
      const start = process.hrtime.bigint();
      const req = request({ host: "127.0.0.1", port, agent, method: spec.method, path: spec.path, headers: { host: spec.host, ...spec.headers } }, (res) => {
        res.resume();
        res.on("end", () => {
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
          resolve();
        });
      });
      req.on("error", reject);
      req.end(spec.body);
    });
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await one(make(next++));
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return { requestsPerSecond: Math.round(total / seconds), latencyMs: summarize(latencies), statuses: Object.fromEntries(statuses) };
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
  return { requestsPerSecond: Math.round(total / seconds), latencyMs: summarize(latencies) };
}
