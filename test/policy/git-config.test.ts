// Reading a repository's config (src/policy/git-config.ts): every key git
// would find, the executing ones named, odd spellings caught by the coarse
// check, and the neutralised rewrite keeping only harmless entries.
import { describe, expect, test } from "bun:test";
import {
  executingKeys,
  hooksPathOf,
  includePathsOf,
  neutralisedConfig,
  parseGitConfig,
} from "../../src/policy/git-config.ts";

describe("parseGitConfig", () => {
  test("sections, subsections, quotes, escapes, continuations, comments and a key on the header line", () => {
    const text = [
      "[core]",
      "\trepositoryformatversion = 0",
      "\tbare",
      '[remote "origin"]',
      '\turl = "https://example.org/a b" ; a comment',
      "[Alias] st = status",
      "[diff.Mine]",
      "\ttextconv = a \\",
      "b",
      "# [core] editor = nope",
    ].join("\n");
    expect(parseGitConfig(text)).toEqual([
      { section: "core", key: "repositoryformatversion", value: "0" },
      { section: "core", key: "bare" },
      { section: "remote", subsection: "origin", key: "url", value: "https://example.org/a b" },
      { section: "alias", key: "st", value: "status" },
      { section: "diff", subsection: "mine", key: "textconv", value: "a b" },
    ]);
  });
});

describe("executingKeys", () => {
  test("every key the issue lists", () => {
    const text = [
      "[core]\n\tfsmonitor = x\n\thooksPath = h\n\tsshCommand = s\n\teditor = e\n\tpager = p",
      "[credential]\n\thelper = c",
      '[filter "lfs"]\n\tsmudge = s\n\tclean = c\n\tprocess = p',
      '[diff "x"]\n\ttextconv = t',
      "[diff]\n\texternal = e",
      '[merge "m"]\n\tdriver = d',
      "[alias]\n\tst = status\n\tboom = !sh -c evil",
      "[include]\n\tpath = other",
      '[includeIf "gitdir:/x/"]\n\tpath = y',
    ].join("\n");
    expect(executingKeys(text)).toEqual([
      "core.fsmonitor",
      "core.hookspath",
      "core.sshcommand",
      "core.editor",
      "core.pager",
      "credential.helper",
      "filter.lfs.smudge",
      "filter.lfs.clean",
      "filter.lfs.process",
      "diff.x.textconv",
      "diff.external",
      "merge.m.driver",
      "alias.boom",
      "include.path",
      "includeif.gitdir:/x/.path",
    ]);
  });

  test("a plain repository's config has none", () => {
    const text = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n";
    expect(executingKeys(text)).toEqual([]);
  });

  test("a spelling the parser reads differently still counts (fail closed)", () => {
    expect(executingKeys("[co\\\nre]\n\tfsmoni\\\ntor = x\n")).not.toEqual([]);
  });
});

test("hooksPath and include paths", () => {
  const entries = parseGitConfig('[core]\n\thooksPath = a\n\thooksPath = .husky/_\n[include]\n\tpath = "../x"\n');
  expect(hooksPathOf(entries)).toBe(".husky/_");
  expect(includePathsOf(entries)).toEqual(["../x"]);
});

test("a neutralised config keeps only harmless entries, quoted so that git reads them back as written", () => {
  const text = '[core]\n\tbare = false\n\tfsmonitor = x\n[remote "o"]\n\turl = "a\\"b"\n[alias]\n\tl = log\n';
  const { text: out, dropped } = neutralisedConfig(text);
  expect(dropped).toEqual(["core.fsmonitor", "alias.l"]);
  expect(out).toContain('[core]\n\tbare = "false"\n[remote "o"]\n\turl = "a\\"b"\n');
  expect(executingKeys(out)).toEqual([]);
});
