// Reading a repository's config (src/policy/git-config.ts): every key git
// would find, the executing ones named, odd spellings caught by the coarse
// check, and the neutralised rewrite keeping only harmless entries.
import { describe, expect, test } from "bun:test";
import {
  executingKeys,
  hooksPathsOf,
  includePathsOf,
  neutralisedConfig,
  configEntries,
  gitIncludePaths,
  parseGitConfig,
  unquoteGitValue,
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
    expect(configEntries(text)).toEqual([
      { section: "core", key: "repositoryformatversion", value: "0" },
      { section: "core", key: "bare" },
      { section: "remote", subsection: "origin", key: "url", value: "https://example.org/a b" },
      { section: "alias", key: "st", value: "status" },
      { section: "diff", subsection: "mine", key: "textconv", value: "a b" },
    ]);
  });
});

describe("executingKeys", () => {
  test("every key the issue lists, and every other entry outside the allow-list", () => {
    const text = [
      "[core]\n\tfsmonitor = x\n\thooksPath = h\n\tsshCommand = s\n\teditor = e\n\tpager = p",
      "[credential]\n\thelper = c",
      '[filter "lfs"]\n\tsmudge = s\n\tclean = c\n\tprocess = p',
      '[diff "x"]\n\ttextconv = t',
      "[diff]\n\texternal = e",
      '[merge "m"]\n\tdriver = d',
      "[alias]\n\tboom = !sh -c evil",
      "[include]\n\tpath = other",
      '[includeIf "gitdir:/x/"]\n\tpath = y',
      // Found by the review: programs git runs through keys no deny-list named.
      "[gpg.ssh]\n\tdefaultKeyCommand = k",
      '[protocol "ext"]\n\tallow = always',
      '[remote "origin"]\n\turl = ext::sh -c evil',
      "[interactive]\n\tdiffFilter = f",
      "[extensions]\n\tworktreeConfig = true",
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
      "gpg.ssh.defaultkeycommand",
      "protocol.ext.allow",
      "remote.origin.url",
      "interactive.difffilter",
      "extensions.worktreeconfig",
    ]);
  });

  test("a plain repository's config has none", () => {
    const text =
      "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n" +
      '[remote "origin"]\n\turl = https://example.org/x.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n' +
      '[branch "main"]\n\tremote = origin\n\tmerge = refs/heads/main\n';
    expect(executingKeys(text)).toEqual([]);
  });

  test("a spelling the parser reads differently still counts (fail closed)", () => {
    expect(executingKeys("[co\\\nre]\n\tfsmoni\\\ntor = x\n")).not.toEqual([]);
  });
});

test("hooksPath and include paths", () => {
  const entries = configEntries('[core]\n\thooksPath = a\n\thooksPath = .husky/_\n[include]\n\tpath = "../x"\n');
  expect(hooksPathsOf(entries)).toEqual(["a", ".husky/_"]);
  expect(includePathsOf(entries)).toEqual(["../x"]);
});

test("a neutralised config keeps only harmless entries, quoted so that git reads them back as written", () => {
  const text = '[core]\n\tbare = false\n\tfsmonitor = x\n[remote "o"]\n\turl = "a\\"b"\n[alias]\n\tl = log\n';
  const { text: out, dropped } = neutralisedConfig(text);
  expect(dropped).toEqual(["core.fsmonitor", "alias.l"]);
  expect(out).toContain('[core]\n\tbare = "false"\n[remote "o"]\n\turl = "a\\"b"\n');
  expect(executingKeys(out)).toEqual([]);
});
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

describe("spellings git reads that a line parser could miss (second review)", () => {
  const hidden = {
    "a BOM read as latin1 bytes": '\xEF\xBB\xBF[man "man"]\n\tpath = /payload\n',
    "two headers on one line": '[x][man "man"]path = /payload\n',
    "a lone CR before each newline": '[man "man"]\r\r\n\tpath = /payload\r\r\n',
  };
  for (const [name, text] of Object.entries(hidden)) {
    test(`${name}: the key is found, and counts`, () => {
      expect(configEntries(text)).toContainEqual({ section: "man", subsection: "man", key: "path", value: "/payload" });
      expect(executingKeys(text)).not.toEqual([]);
    });
  }

  test("a line that is neither blank, a comment, a header nor a key counts as executing", () => {
    expect(executingKeys("[core]\n\tbare = false\n\t!weird\n")).toEqual(["(a line cordon does not parse)"]);
    expect(executingKeys("bare = false\n[core]\n")).toEqual(["(a line cordon does not parse)"]);
  });
});
