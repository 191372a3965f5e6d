import { auditCost } from "./audit-cost.ts";
import { callsPerOperation } from "./calls.ts";
import { coldStart } from "./cold-start.ts";
import { endToEnd } from "./end-to-end.ts";
import { envelope } from "./envelope.ts";
import { requestOverhead } from "./overhead.ts";
import { rotation } from "./rotation.ts";

/** Runs one bench in this (fresh) process and prints its figures as JSON on the last line. */
export const benches = { requestOverhead, coldStart, endToEnd, callsPerOperation, auditCost, rotation, envelope } as const;

const name = process.argv[2] as keyof typeof benches;
if (!(name in benches)) {
  console.error(`unknown bench ${name}; one of ${Object.keys(benches).join(", ")}`);
  process.exit(2);
}
process.env.POWERTOOLS_LOG_LEVEL ??= "SILENT";
const result = await benches[name]();
console.log(JSON.stringify(result));
process.exit(0);
