// Renders the policy reference (docs/policy.md) from the valibot schemas, so
// the documentation cannot drift from what cordon accepts.
import type * as v from "valibot";
import { BUILTIN_PROFILES } from "./profiles.ts";
import { PolicyFileSchema } from "./schema.ts";
import { SECRETS } from "./secrets.ts";

type AnySchema = v.GenericSchema & {
  type: string;
  wrapped?: AnySchema;
  pipe?: readonly { type: string; kind?: string; description?: string }[];
  item?: AnySchema;
  options?: readonly string[];
  entries?: Record<string, AnySchema>;
  value?: AnySchema;
};

function unwrap(schema: AnySchema): { schema: AnySchema; description: string } {
  let current = schema;
  let description = "";
  for (;;) {
    const found = current.pipe?.find((action) => action.type === "description")?.description;
    if (found) description = found;
    if (current.type === "optional" && current.wrapped) current = current.wrapped;
    else break;
  }
  const inner = current.pipe?.[0] as AnySchema | undefined;
  if (inner && inner !== current && current.pipe) return { schema: inner.type ? inner : current, description };
  return { schema: current, description };
}

function typeName(schema: AnySchema): string {
  const { schema: inner } = unwrap(schema);
  switch (inner.type) {
    case "array":
      return `list of ${typeName(inner.item!)}`;
    case "picklist":
      return inner.options!.map((option) => `"${option}"`).join(" \\| ");
    case "strict_object":
      return "object";
    case "record":
      return `map of ${typeName(inner.value!)}`;
    default:
      return inner.type;
  }
}

export function policyReference(): string {
  const entries = (PolicyFileSchema as unknown as AnySchema).entries!;
  const rows = Object.entries(entries).map(([name, schema]) => {
    const { description } = unwrap(schema);
    return `| \`${name}\` | ${typeName(schema)} | ${description} |`;
  });
  const profiles = Object.entries(BUILTIN_PROFILES).map(
    ([name, profile]) => `| \`${name}\` | ${profile.description} |`,
  );
  const secrets = Object.entries(SECRETS).map(([name, secret]) => `| \`${name}\` | ${secret.what} |`);
  return [
    "# Policy reference",
    "",
    "<!-- Generated from src/policy/schema.ts by `npm run docs`; a test fails if it drifts. -->",
    "",
    "A policy file is JSON, YAML or TOML (by extension; otherwise JSON if it starts with `{`, else YAML).",
    "Unknown fields are errors. Relative paths resolve against `--cwd`; `~` is expanded.",
    "",
    "| field | type | meaning |",
    "|---|---|---|",
    ...rows,
    "",
    "## Built-in profiles",
    "",
    "| profile | meaning |",
    "|---|---|",
    ...profiles,
    "",
    "## Secure defaults",
    "",
    "Every profile hides these when they exist, unless `reveal` (or `--reveal NAME`) names them.",
    "",
    "| name | hides |",
    "|---|---|",
    ...secrets,
    "",
  ].join("\n");
}
