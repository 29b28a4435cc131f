// git's config syntax as git reads it (src/policy/git-config.ts): continuation
// lines, comments, quoting, and the include paths the resolver follows.
import { expect, test } from "bun:test";
import { gitIncludePaths, parseGitConfig, unquoteGitValue } from "../../src/policy/git-config.ts";

test("an odd run of trailing backslashes continues a value; an even run, or one in a comment, does not", () => {
  const entries = parseGitConfig("[a]\n\tk = one \\\n two\n\tl = C:\\\\\n\tm = x ; note \\\n\tn = y");
  expect(entries.map((entry) => [entry.key, entry.value])).toEqual([
    [undefined, undefined],
    ["k", " one  two"],
    ["l", " C:\\\\"],
    ["m", " x ; note \\"],
    ["n", " y"],
  ]);
});

test("a backslash at the end of a quoted value still continues it; the quote spans the join", () => {
  const [, entry] = parseGitConfig('[a]\n\tk = "one \\\n;two"');
  expect(unquoteGitValue(entry!.value!)).toBe("one ;two");
});

test("include paths of include and includeIf sections, unquoted, comments cut, other keys ignored", () => {
  const text =
    '[include]\n\tpath = ~/a ; why\n[includeIf "gitdir:~/w/"]\n\tPath = "b c"\n[core]\n\tpath = no\n[include] path=d';
  expect(gitIncludePaths(text)).toEqual(["~/a", "b c", "d"]);
});
