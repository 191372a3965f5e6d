/** Summary statistics over samples in microseconds (or any unit). */
export function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { n: sorted.length, median: at(0.5), p99: at(0.99), min: sorted[0]! };
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** Times `fn` once per call, in microseconds. */
export async function timeEach(count: number, fn: (i: number) => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return out;
}
