// Renders the policy reference (docs/policy.md) from the valibot schemas, so
// the documentation cannot drift from what cordon accepts.
import type * as v from "valibot";
import { BUILTIN_PROFILES } from "./profiles.ts";
import { PolicyFileSchema } from "./schema.ts";
import {
  CI_ALLOWED_PREFIXES,
  CI_ALLOWED_VARIABLES,
  SECRET_LAST_WORDS,
  SECRET_PREFIXES,
  SECRET_VARIABLES,
  SECRET_WORD_PAIRS,
  SECRET_WORDS,
} from "./environment.ts";
import { NOT_HIDDEN, SECRETS } from "./secrets.ts";

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
  const secrets = Object.entries(SECRETS).map(
    ([name, secret]) => `| \`${name}\` | ${secret.redact ? "redacted copy" : "hidden"} | ${secret.what} |`,
  );
  const code = (names: readonly string[]) => names.map((name) => `\`${name}\``).join(", ");
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
    "Every profile hides these when they exist, or presents a copy without the secret lines (bwrap mode binds",
    "the copy over the file; landlock-only mode hides the file and points the tool's variable at the copy, and",
    "refuses a checkout token in `.git/config`), unless `reveal` (or `--reveal NAME`) names them.",
    "",
    "| name | how | covers |",
    "|---|---|---|",
    ...secrets,
    "",
    "Not hidden:",
    "",
    ...NOT_HIDDEN.map((text) => `- ${text}`),
    "",
    "## Environment",
    "",
    "Every profile removes the caller's secret-shaped variables (a variable the policy sets, or `--env NAME`",
    "passes, is kept). A name is secret-shaped when, split at `_` and other non-alphanumerics and compared",
    "case-insensitively:",
    "",
    `- it is one of ${code(SECRET_VARIABLES)}, or starts with ${code(SECRET_PREFIXES)};`,
    `- a word of it is one of ${code(SECRET_WORDS)};`,
    `- two words in a row are ${SECRET_WORD_PAIRS.map(([a, b]) => `\`${a}_${b}\``).join(", ")};`,
    `- its last word (of two or more) is ${code(SECRET_LAST_WORDS)}.`,
    "",
    "A variable whose value holds, anywhere in it, a URL with a password (`postgres://app:pw@db/app`,",
    "`GOPROXY=direct,https://u:pw@…`), an HTTP header that carries a credential (`Authorization:`,",
    "`PRIVATE-TOKEN:`, `X-API-Key:`...; git reads `http.extraheader` from `GIT_CONFIG_PARAMETERS`) or a PEM",
    "private key is removed too.",
    "",
    "`--profile ci` (`env.allowList`) keeps only these of the caller's variables, minus secret-shaped ones:",
    `${code(CI_ALLOWED_VARIABLES)}, and names starting with ${code(CI_ALLOWED_PREFIXES)}.`,
    "",
  ].join("\n");
}
