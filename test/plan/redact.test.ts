// The redaction functions: secrets out, settings kept, names (never values) reported.
import { describe, expect, test } from "bun:test";
import {
  redact,
  redactDockerConfig,
  redactGitConfig,
  redactMavenSettings,
  redactNpmrc,
  redactProperties,
  redactYarnrc,
} from "../../src/plan/redact.ts";
import { redactionPlanFor } from "../../src/plan/redacted-copies.ts";

describe("redactNpmrc", () => {
  test("auth lines go, registries and settings stay", () => {
    const text = [
      "registry=https://registry.npmjs.org/",
      "//registry.npmjs.org/:_authToken=npm_SECRET",
      "@me:registry=https://npm.me/",
      "//npm.me/:_auth = U0VDUkVU",
      "//npm.me/:_password=cGFzcw==",
      "//npm.me/:username=me",
      "_auth=U0VDUkVU",
      "always-auth=true",
      "proxy=http://u:SECRETPW@proxy:3128",
      "; a comment",
    ].join("\n");
    const result = redactNpmrc(text);
    expect(result.text).not.toMatch(/SECRET|U0VDUkVU|cGFzcw/);
    expect(result.text).toContain("registry=https://registry.npmjs.org/");
    expect(result.text).toContain("@me:registry=https://npm.me/");
    expect(result.text).toContain("//npm.me/:username=me");
    expect(result.text).toContain("always-auth=true");
    expect(result.removed).toEqual([
      "//registry.npmjs.org/:_authToken",
      "//npm.me/:_auth",
      "//npm.me/:_password",
      "_auth",
      "proxy",
    ]);
  });

  test("quoted keys are read as npm's ini reads them; an inline client key goes", () => {
    const text = [
      '"//registry.npmjs.org/:_authToken" = SECRET1',
      "'//r.example/:_password'=SECRET2",
      'key = "-----BEGIN PRIVATE KEY-----\\nSECRET3\\n-----END PRIVATE KEY-----"',
      "//r.example/:key=SECRET4",
      "//r.example/:certfile=/etc/cert.pem",
      "registry=https://r.example/",
    ].join("\n");
    const result = redactNpmrc(text);
    expect(result.text).toBe("//r.example/:certfile=/etc/cert.pem\nregistry=https://r.example/");
    expect(result.removed).toEqual([
      "//registry.npmjs.org/:_authToken",
      "//r.example/:_password",
      "key",
      "//r.example/:key",
    ]);
  });

  test("nothing secret: the text is unchanged and nothing is removed", () => {
    expect(redactNpmrc("registry=https://r/\n")).toEqual({ text: "registry=https://r/\n", removed: [], pointers: [] });
  });
});

describe("redactGitConfig", () => {
  test("actions/checkout's extra header and credentials include go; the rest of .git/config stays", () => {
    const text = [
      "[core]",
      "\trepositoryformatversion = 0",
      '[remote "origin"]',
      "\turl = https://github.com/o/r",
      '[http "https://github.com/"]',
      "\textraheader = AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX1NFQ1JFVA==",
      '[includeIf "gitdir:/home/runner/work/r/r/.git"]',
      "\tpath = /home/runner/work/_temp/git-credentials-0c5a.config",
      "[include]",
      "\tpath = ../shared.config",
    ].join("\n");
    const result = redactGitConfig(text);
    expect(result.text).not.toMatch(/eC1hY2Nl|git-credentials/);
    expect(result.text).toContain("url = https://github.com/o/r");
    expect(result.text).toContain("path = ../shared.config");
    expect(result.removed).toEqual([
      "http.https://github.com/.extraheader",
      "includeif.gitdir:/home/runner/work/r/r/.git.path (a checkout token)",
    ]);
  });

  test("credential helpers, password keys, URLs with passwords and continuation lines go", () => {
    const text = [
      "[user]",
      "\tname = Me",
      "[credential]",
      "\thelper = store",
      '[credential "https://example.com"]',
      "\thelper = !f() { echo password=SECRET1; \\",
      "\t  }; f",
      "[sendemail]",
      "\tsmtpPass = SECRET2",
      '[url "https://x-access-token:SECRET3@github.com/"]',
      "\tinsteadOf = https://github.com/",
      "[http] proxy = http://u:SECRET4@proxy:3128",
      "[core]",
      "\taskPass = /usr/bin/ksshaskpass",
      "[alias]",
      "\tst = status",
    ].join("\n");
    const result = redactGitConfig(text);
    expect(result.text).not.toMatch(/SECRET/);
    // askPass names a program that asks for a password: a setting, not a secret.
    expect(result.text).toContain("askPass = /usr/bin/ksshaskpass");
    // `store` names a program; the inline `!` helper holds its password itself: no pointer.
    expect(result.pointers).toEqual(["credential.helper"]);
    expect(result.text).toContain("name = Me");
    expect(result.text).toContain("st = status");
    expect(result.removed).toEqual([
      "credential.helper",
      "credential.https://example.com.helper",
      "sendemail.smtppass",
      "url.<a URL with a password>",
      "http.proxy",
    ]);
  });
});

describe("redactGitConfig reads lines as git does", () => {
  test("an escaped backslash ends a value, and a comment never continues: the next line is its own key", () => {
    const text = [
      "[alias]",
      "\tw = !echo C:\\\\",
      '[url "https://u:SECRET1@github.com/"]',
      "\tinsteadOf = https://github.com/",
      "[http]",
      "# see the wiki \\",
      "\textraheader = AUTHORIZATION: basic SECRET2",
      "\tproxy = http://p \\",
      "; a comment \\",
    ].join("\n");
    const result = redactGitConfig(text);
    expect(result.text).not.toContain("SECRET");
    expect(result.text).toContain("w = !echo C:\\\\");
    expect(result.text).toContain("# see the wiki \\");
    expect(result.removed).toEqual(["url.<a URL with a password>", "http.extraheader"]);
  });

  test("a continued value is judged whole: a password URL split over two lines goes", () => {
    const text = "[http]\n\tproxy = http://u:\\\nSECRET@proxy:3128\n\tsslVerify = true";
    const result = redactGitConfig(text);
    expect(result.text).toBe("[http]\n\tsslVerify = true");
    expect(result.removed).toEqual(["http.proxy"]);
  });

  test("includes: rewritten to the path given, dropped when not covered; a checkout-token include goes", () => {
    const text = [
      "[include]",
      "\tpath = .gitconfig.local ; relative",
      '[includeIf "gitdir:~/work/"]',
      '\tpath = "~/work.gitconfig"',
      "[include]",
      "\tpath = /elsewhere/unknown",
      "\tpath = /runner/_temp/git-credentials-1.config",
    ].join("\n");
    const targets: Record<string, string> = {
      ".gitconfig.local": "/h/.gitconfig.local",
      "~/work.gitconfig": '/s/redacted/a "b"/work.gitconfig',
    };
    const result = redactGitConfig(text, (path) => targets[path]);
    expect(result.text).toBe(
      [
        "[include]",
        '\tpath = "/h/.gitconfig.local"',
        '[includeIf "gitdir:~/work/"]',
        '\tpath = "/s/redacted/a \\"b\\"/work.gitconfig"',
        "[include]",
      ].join("\n"),
    );
    expect(result.removed).toEqual(["include.path (not covered)", "include.path (a checkout token)"]);
  });
});

describe("redactDockerConfig", () => {
  test("keys match case-insensitively as Go's decoder does; proxy passwords and credential headers go", () => {
    const config = {
      AUTHS: { "ghcr.io": { Auth: "SECRET1", email: "me@x" } },
      CredsStore: "desktop",
      proxies: { default: { httpsProxy: "http://u:SECRET2@proxy:3128", noProxy: "localhost" } },
      HttpHeaders: { Authorization: "Bearer SECRET3", "User-Agent": "me" },
      detachKeys: "ctrl-e",
    };
    const result = redactDockerConfig(JSON.stringify(config));
    expect(result.text).not.toMatch(/SECRET|desktop/);
    expect(JSON.parse(result.text)).toEqual({
      AUTHS: { "ghcr.io": { email: "me@x" } },
      proxies: { default: { noProxy: "localhost" } },
      HttpHeaders: { "User-Agent": "me" },
      detachKeys: "ctrl-e",
    });
    expect(result.removed).toEqual([
      "auths.ghcr.io.Auth",
      "CredsStore",
      "proxies.default.httpsProxy",
      "HttpHeaders.Authorization",
    ]);
    expect(result.pointers).toEqual(["CredsStore"]);
  });

  test("registry credentials and credential helpers go; registries and other settings stay", () => {
    const config = {
      auths: { "ghcr.io": { auth: "U0VDUkVU", email: "me@x" }, "quay.io": { identitytoken: "SECRET" } },
      credsStore: "pass",
      credHelpers: { "gcr.io": "gcloud" },
      proxies: { default: { httpProxy: "http://p:3128" } },
    };
    const result = redactDockerConfig(JSON.stringify(config));
    expect(result.text).not.toMatch(/SECRET|U0VDUkVU|gcloud/);
    expect(JSON.parse(result.text)).toEqual({
      auths: { "ghcr.io": { email: "me@x" }, "quay.io": {} },
      proxies: { default: { httpProxy: "http://p:3128" } },
    });
    expect(result.removed).toEqual(["auths.ghcr.io.auth", "auths.quay.io.identitytoken", "credsStore", "credHelpers"]);
  });

  test("text that is not a JSON object becomes {}", () => {
    expect(redactDockerConfig("not json {").text).toBe("{}\n");
    expect(redactDockerConfig("[1]").text).toBe("{}\n");
  });
});

test("a file cordon could not read becomes an empty copy, never the original", () => {
  expect(redact("npmrc", undefined)).toEqual({
    text: "",
    removed: ["everything (cordon could not read it)"],
    pointers: [],
  });
});

describe("redactionPlanFor", () => {
  const files = [
    { path: "/h/.npmrc", secret: "npmrc" as const, format: "npmrc" as const, links: 1 },
    { path: "/h/.config/git/config", secret: "gitconfig" as const, format: "git-config" as const, links: 1 },
    { path: "/h/.gitconfig", secret: "gitconfig" as const, format: "git-config" as const, links: 1 },
    { path: "/ws/.git/config", secret: "git-checkout-token" as const, format: "git-config" as const, links: 1 },
  ];
  const sources = new Map([
    ["/h/.npmrc", "//r/:_authToken=T\n"],
    ["/h/.config/git/config", "[alias]\n\tst = status"],
    ["/h/.gitconfig", "[credential]\n\thelper = store"],
    ["/ws/.git/config", '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic T'],
  ]);
  const input = { policy: { redact: files, writeRoots: ["/ws"] }, sources, replaced: ["/tmp"], stateDir: "/s" };

  test("bwrap mode: each file with a secret gets its own copy, bound over it", () => {
    const plan = redactionPlanFor({ ...input, bwrap: true });
    expect(plan.redactions.map((r) => r.how)).toEqual(["copy", "unchanged", "copy", "copy"]);
    expect(plan.binds).toEqual([
      { source: "/s/redacted/0/.npmrc", dest: "/h/.npmrc" },
      { source: "/s/redacted/2/.gitconfig", dest: "/h/.gitconfig" },
      { source: "/s/redacted/3/config", dest: "/ws/.git/config" },
    ]);
    expect(plan.copies.map((copy) => copy.text).join("")).not.toContain("T\n");
    expect(plan.env).toEqual({});
  });

  test("landlock-only mode: hidden, the tool's variable names one copy per tool; a checkout token refuses", () => {
    const plan = redactionPlanFor({ ...input, bwrap: false });
    expect(plan.redactions.map((r) => r.how)).toEqual(["hidden", "unchanged", "hidden", "refused"]);
    expect(plan.hidden).toEqual(["/h/.npmrc", "/h/.gitconfig"]);
    expect(plan.env).toEqual({
      NPM_CONFIG_USERCONFIG: "/s/redacted/npmrc/.npmrc",
      npm_config_userconfig: "/s/redacted/npmrc/.npmrc",
      GIT_CONFIG_GLOBAL: "/s/redacted/gitconfig/config",
    });
    // git reads $XDG_CONFIG_HOME/git/config, then ~/.gitconfig: GIT_CONFIG_GLOBAL stands for both.
    const git = plan.copies.find((copy) => copy.path === "/s/redacted/gitconfig/config")!;
    expect(git.text).toBe("[alias]\n\tst = status\n[credential]");
  });

  test("landlock-only mode leaves a .git/config that only names a credential helper: no secret to refuse for", () => {
    const helperOnly = new Map([["/ws/.git/config", "[credential]\n\thelper = store"]]);
    const plan = redactionPlanFor({
      ...input,
      policy: { ...input.policy, redact: [files[3]!] },
      sources: helperOnly,
      bwrap: false,
    });
    expect(plan.redactions.map((r) => r.how)).toEqual(["helpers only"]);
    // bwrap mode still shows a copy without it.
    const bwrap = redactionPlanFor({
      ...input,
      policy: { ...input.policy, redact: [files[3]!] },
      sources: helperOnly,
      bwrap: true,
    });
    expect(bwrap.redactions.map((r) => r.how)).toEqual(["copy"]);
  });
});

describe("redactionPlanFor: files git reaches by include", () => {
  const git = { secret: "gitconfig" as const, format: "git-config" as const, links: 1 };
  const files = [
    {
      ...git,
      path: "/h/.gitconfig",
      includes: [
        { written: ".gitconfig-secret", path: "/h/.gitconfig-secret" },
        { written: "~/.gitconfig.local", path: "/h/.gitconfig.local" },
        { written: "/h/.ssh/config", path: "/h/.ssh/config", dropped: true },
      ],
    },
    { ...git, path: "/h/.gitconfig-secret", includedBy: "/h/.gitconfig", includes: [] },
    { ...git, path: "/h/.gitconfig.local", includedBy: "/h/.gitconfig", includes: [] },
  ];
  const sources = new Map([
    ["/h/.gitconfig", "[include]\n\tpath = .gitconfig-secret\n\tpath = ~/.gitconfig.local\n\tpath = /h/.ssh/config"],
    ["/h/.gitconfig-secret", "[http]\n\textraheader = AUTHORIZATION: bearer T\n[alias]\n\tks = kept"],
    ["/h/.gitconfig.local", "[user]\n\tname = Me"],
  ]);
  const input = { policy: { redact: files, writeRoots: ["/ws"] }, sources, replaced: ["/tmp"], stateDir: "/s" };

  test("bwrap mode: the includer's copy drops the hidden include; the included secret gets its own copy", () => {
    const plan = redactionPlanFor({ ...input, bwrap: true });
    expect(plan.redactions.map((r) => r.how)).toEqual(["copy", "copy", "unchanged"]);
    expect(plan.redactions[0]!.removed).toEqual(["include.path (not covered)"]);
    expect(plan.binds.map((bind) => bind.dest)).toEqual(["/h/.gitconfig", "/h/.gitconfig-secret"]);
    expect(plan.copies[0]!.text).toBe('[include]\n\tpath = ".gitconfig-secret"\n\tpath = "~/.gitconfig.local"');
    expect(plan.copies[1]!.text).toBe("[http]\n[alias]\n\tks = kept");
  });

  test("landlock-only mode: includes point at the included copies or at absolute paths, never relative", () => {
    const plan = redactionPlanFor({ ...input, bwrap: false });
    expect(plan.redactions.map((r) => r.how)).toEqual(["hidden", "hidden", "unchanged"]);
    expect(plan.hidden).toEqual(["/h/.gitconfig-secret", "/h/.gitconfig"]);
    expect(plan.env).toEqual({ GIT_CONFIG_GLOBAL: "/s/redacted/gitconfig/.gitconfig" });
    const copy = (path: string) => plan.copies.find((c) => c.path === path)?.text;
    expect(copy("/s/redacted/gitconfig/.gitconfig")).toBe(
      '[include]\n\tpath = "/s/redacted/gitconfig/include-1/.gitconfig-secret"\n\tpath = "/h/.gitconfig.local"',
    );
    expect(copy("/s/redacted/gitconfig/include-1/.gitconfig-secret")).toBe("[http]\n[alias]\n\tks = kept");
  });
});

describe("build tools' settings files", () => {
  test("gradle.properties: password, token, secret and key properties go, continued values whole", () => {
    const text = [
      "org.gradle.jvmargs=-Xmx2g",
      "signing.password=SECRET1",
      "mavenCentralPassword = SECRET2",
      "githubToken: SECRET3 \\",
      "  SECRET3-continued",
      "nexusUrl=https://u:SECRET4@nexus.example/",
      "# password=commented",
      "version=1.0",
    ].join("\n");
    const result = redactProperties(text);
    expect(result.text).toBe("org.gradle.jvmargs=-Xmx2g\n# password=commented\nversion=1.0");
    expect(result.removed).toEqual(["signing.password", "mavenCentralPassword", "githubToken", "nexusUrl"]);
  });

  test("~/.yarnrc.yml: npmAuthToken and npmAuthIdent go at any depth; registries stay", () => {
    const text = [
      'npmRegistryServer: "https://npm.example"',
      "npmAuthToken: SECRET1",
      "npmScopes:",
      "  me:",
      "    npmRegistryServer: https://npm.me",
      '    "npmAuthIdent": "u:SECRET2"',
      "    npmAlwaysAuth: true",
      "enableTelemetry: false",
      'npmRegistries: {"//r.example": {npmAuthToken: SECRET3}}',
    ].join("\n");
    const result = redactYarnrc(text);
    expect(result.text).not.toContain("SECRET");
    expect(result.text).toContain("npmRegistryServer: https://npm.me");
    expect(result.text).toContain("npmAlwaysAuth: true");
    expect(result.removed).toEqual(["npmAuthToken", "npmAuthIdent", "npmRegistries (a token inside)"]);
  });

  test("Maven's settings.xml: server and proxy passwords and a server's Authorization header go", () => {
    const text = [
      "<settings><servers><server><id>central</id><username>me</username>",
      "<password>SECRET1</password><privateKey>/k</privateKey><passphrase>SECRET2</passphrase></server>",
      "<server><id>gl</id><configuration><httpHeaders><property><name>Private-Token</name>",
      "<value>SECRET3</value></property></httpHeaders></configuration></server></servers>",
      "<mirrors><mirror><url>https://m.example</url></mirror></mirrors></settings>",
    ].join("\n");
    const result = redactMavenSettings(text);
    expect(result.text).not.toContain("SECRET");
    expect(result.text).toContain("<username>me</username>");
    expect(result.text).toContain("<url>https://m.example</url>");
    expect(result.removed).toEqual(["password", "privateKey", "passphrase", "property Private-Token"]);
  });

  test("landlock-only mode hides them whole: no variable can point the tool at a copy", () => {
    const file = { path: "/h/.gradle/gradle.properties", secret: "gradle" as const, format: "properties" as const };
    const plan = redactionPlanFor({
      policy: { redact: [{ ...file, links: 1 }], writeRoots: [] },
      sources: new Map([[file.path, "signing.password=x\n"]]),
      bwrap: false,
      replaced: [],
      stateDir: "/s",
    });
    expect(plan.redactions.map((r) => r.how)).toEqual(["hidden whole"]);
    expect(plan.hidden).toEqual([file.path]);
    expect(plan.copies).toEqual([]);
    expect(plan.env).toEqual({});
  });
});
