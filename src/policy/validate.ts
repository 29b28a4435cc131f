// Validation with one clear message per problem: where, which field, what was wrong.
import * as v from "valibot";
import { CordonError } from "../errors.ts";

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function validate<const S extends v.GenericSchema>(schema: S, input: unknown, source: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const issue = result.issues[0]!;
  const where = v.getDotPath(issue);
  if (issue.kind === "schema" && issue.type === "strict_object" && issue.input !== undefined && issue.path) {
    const key = issue.path[issue.path.length - 1]?.key;
    throw new CordonError(
      `${source}: unknown field ${JSON.stringify(key)}${where && where !== String(key) ? ` (at ${where})` : ""}`,
    );
  }
  throw new CordonError(`${source}: ${where ?? "policy"}: ${issue.message} (got ${describe(issue.input)})`);
}
