// The README states what the secure defaults and the ci allow-list cover in
// words; the lists themselves live in src/policy. These keep the two equal.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CI_ALLOWED_PREFIXES, CI_ALLOWED_VARIABLES } from "../../src/policy/environment.ts";
import { SECRET_NAMES } from "../../src/policy/schema.ts";
import { NOT_HIDDEN } from "../../src/policy/secrets.ts";
import { REPO } from "../helpers/cordon.ts";

const README = readFileSync(join(REPO, "README.md"), "utf8");
const section = (title: string) =>
  README.slice(README.indexOf(title), README.indexOf("\n#", README.indexOf(title) + 4));

test("the README's ci allow-list names every variable and family the code keeps", () => {
  const text = section("### The ci allow-list");
  for (const name of CI_ALLOWED_VARIABLES) expect(text).toContain(`\`${name}\``);
  for (const prefix of CI_ALLOWED_PREFIXES.filter((prefix) => prefix !== "CI_")) expect(text).toContain(prefix);
});

test("the README's secure defaults name every secret, and list word for word what is not hidden", () => {
  const text = section("### Secure defaults");
  for (const name of SECRET_NAMES) expect(text).toContain(`\`${name}\``);
  for (const line of NOT_HIDDEN) expect(text).toContain(`- ${line}`);
});
