import { parseArgs } from "node:util";
import { stateMachines, type StateMachineName } from "@bulkhead/core/workflows/machines";
import { PRODUCTION_WORKFLOW_OPTIONS } from "@bulkhead/core/workflows/options";
import { placeholderTaskResources } from "@bulkhead/core/workflows/tasks";
import { validateDefinition } from "../workflows/validate.ts";

/**
 * Prints every state machine definition as JSON, with production options: what infra deploys,
 * except that task resources are the offline placeholder ARNs (infra substitutes the deployed
 * functions' ARNs). Each is validated with asl-validator first; an invalid one exits 1.
 */
export function printableDefinitions(): Record<StateMachineName, object> {
  const resources = placeholderTaskResources();
  const out = {} as Record<StateMachineName, object>;
  for (const [name, build] of Object.entries(stateMachines) as [StateMachineName, (typeof stateMachines)[StateMachineName]][]) {
    out[name] = build(PRODUCTION_WORKFLOW_OPTIONS, resources);
    validateDefinition(name, out[name]);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { name: { type: "string" } } });
  try {
    const all = printableDefinitions();
    const chosen = values.name ? { [values.name]: all[values.name as StateMachineName] } : all;
    if (values.name && !all[values.name as StateMachineName]) throw new Error(`no state machine named ${values.name}; known: ${Object.keys(all).join(", ")}`);
    console.log(JSON.stringify(chosen, null, 2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
