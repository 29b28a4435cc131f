// Regenerates docs/policy.md from the policy schema.
import { mkdirSync, writeFileSync } from "node:fs";
import { policyReference } from "../src/policy/reference.ts";

mkdirSync("docs", { recursive: true });
writeFileSync("docs/policy.md", policyReference());
process.stdout.write("wrote docs/policy.md\n");
