// The environment filter: secret-shaped names removed in every profile, and
// the ci allow-list. Pure; the integration tests run it through the binary.
import { describe, expect, test } from "bun:test";
import {
  CI_ALLOWED_VARIABLES,
  environmentRemovals,
  isAllowedInCi,
  containsCredentialUrl,
  isCredentialValue,
  isSecretName,
} from "../../src/policy/environment.ts";

/** Every name the issue found reaching the command, and the CI tokens `ci` removed before. */
export const LEAKED_SECRETS = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_SECURITY_TOKEN",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "GITLAB_TOKEN",
  "VAULT_TOKEN",
  "CARGO_REGISTRY_TOKEN",
  "DOCKER_PASSWORD",
  "TWINE_PASSWORD",
  "OPENAI_API_KEY",
  "ANTHROPIC_API_KEY",
  "GITHUB_TOKEN",
  "GH_TOKEN",
  "ACTIONS_RUNTIME_TOKEN",
  "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
  "ACTIONS_ID_TOKEN_REQUEST_URL",
  "ACTIONS_CACHE_URL",
  "ACTIONS_RUNTIME_URL",
  "CI_JOB_TOKEN",
  "CI_JOB_JWT",
  "CI_REGISTRY_PASSWORD",
  "NPM_TOKEN",
  "NODE_AUTH_TOKEN",
  "npm_config__auth",
  "npm_config_//registry.npmjs.org/:_authToken",
  "AZURE_CLIENT_SECRET",
  "GOOGLE_APPLICATION_CREDENTIALS",
  "HF_TOKEN",
  "STRIPE_SECRET_KEY",
  "DEPLOY_PRIVATE_KEY",
  "SENDGRID_KEY",
  "GITHUB_PAT",
  "HTTP_PROXY_AUTH",
  "OP_SESSION_my_team",
  "SLACK_WEBHOOK_URL",
  "SENTRY_DSN",
  "DOCKER_AUTH_CONFIG",
];

/** Names that look close to a secret's but are not one. */
const NOT_SECRETS = [
  "PATH",
  "HOME",
  "PWD",
  "TOKENIZERS_PARALLELISM",
  "SSH_AUTH_SOCK",
  "SSH_ASKPASS",
  "GIT_ASKPASS",
  "KEYBOARD_LAYOUT",
  "AWS_REGION",
  "AWS_PROFILE",
  "AWS_DEFAULT_REGION",
  "XAUTHORITY",
  "HISTFILE",
  "PASSWORDLESS",
  "MONKEY",
];

describe("isSecretName", () => {
  test.each(LEAKED_SECRETS)("%s is secret-shaped", (name) => expect(isSecretName(name)).toBe(true));
  test.each(NOT_SECRETS)("%s is not", (name) => expect(isSecretName(name)).toBe(false));
});

test("a URL with a password is a credential whatever its name, wherever it sits; one without is not", () => {
  expect(containsCredentialUrl("postgres://app:hunter2@db:5432/app")).toBe(true);
  expect(containsCredentialUrl("https://x-access-token:ghs_abc@github.com/o/r")).toBe(true);
  expect(containsCredentialUrl("https://pypi.org/simple https://u:pw@pypi.example/simple")).toBe(true);
  expect(containsCredentialUrl("private=https://u:pw@pypi.example/simple")).toBe(true);
  expect(containsCredentialUrl("direct,https://u:pw@proxy.example")).toBe(true);
  expect(containsCredentialUrl("postgres://db:5432/app")).toBe(false);
  expect(containsCredentialUrl("postgres://app@db/app")).toBe(false);
  expect(containsCredentialUrl("https://host:8080/path?mail=a@b")).toBe(false);
  expect(containsCredentialUrl("not a url: a:b@c")).toBe(false);
});

test("an Authorization header is a credential wherever it sits: git reads extraheader from the environment", () => {
  expect(isCredentialValue("'http.extraheader'='AUTHORIZATION: basic eC1hY2Nlc3M='")).toBe(true);
  expect(isCredentialValue("Authorization: Bearer ghs_abc")).toBe(true);
  expect(isCredentialValue("postgres://app:pw@db/app")).toBe(true);
  expect(isCredentialValue("authorization is required")).toBe(false);
  expect(isCredentialValue("'http.extraheader'='PRIVATE-TOKEN: glpat-abc'")).toBe(true);
  expect(isCredentialValue("X-API-Key: abc")).toBe(true);
  expect(isCredentialValue("Proxy-Authorization: Basic eDp5")).toBe(true);
  expect(isCredentialValue("private-token is a GitLab header")).toBe(false);
});

test("a PEM private key is a credential, raw or JSON-escaped; a certificate is not", () => {
  expect(isCredentialValue('{"private_key":"-----BEGIN PRIVATE KEY-----\\nMIIE"}')).toBe(true);
  expect(isCredentialValue("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl")).toBe(true);
  expect(isCredentialValue("-----BEGIN CERTIFICATE-----\nMIIB")).toBe(false);
});

test("the ci allow-list keeps the basics, locales and the runner's description, and no GITHUB_ENV", () => {
  for (const name of ["PATH", "HOME", "LANG", "LC_ALL", "TERM", "TZ", "CI", "USER", "GITHUB_SHA", "RUNNER_OS"]) {
    expect(isAllowedInCi(name)).toBe(true);
  }
  for (const name of ["GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STATE", "MY_VAR", "LD_PRELOAD"]) {
    expect(isAllowedInCi(name)).toBe(false);
  }
  // Nothing on the allow-list is itself secret-shaped.
  expect(CI_ALLOWED_VARIABLES.filter(isSecretName)).toEqual([]);
});

describe("environmentRemovals", () => {
  const vars = [
    { name: "PATH", value: "/usr/bin" },
    { name: "GITHUB_TOKEN", value: "ghs_secret" },
    { name: "DATABASE_URL", value: "postgres://u:pw@db/x" },
    { name: "MY_SETTING", value: "1" },
    { name: "CI_JOB_TOKEN", value: "t" },
    { name: "CI_PROJECT_DIR", value: "/builds/x" },
  ];
  const policy = { clear: false, allowList: false, set: {} };

  test("every profile: secret names and credential URLs, by name and reason, never a value", () => {
    const removed = environmentRemovals(vars, policy);
    expect(removed).toEqual([
      { name: "GITHUB_TOKEN", why: "secret" },
      { name: "DATABASE_URL", why: "credential-value" },
      { name: "CI_JOB_TOKEN", why: "secret" },
    ]);
    expect(JSON.stringify(removed)).not.toContain("ghs_secret");
  });

  test("ci: only the allow-list stays, minus secret-shaped names", () => {
    expect(environmentRemovals(vars, { ...policy, allowList: true })).toEqual([
      { name: "GITHUB_TOKEN", why: "secret" },
      { name: "DATABASE_URL", why: "credential-value" },
      { name: "MY_SETTING", why: "not-allowed" },
      { name: "CI_JOB_TOKEN", why: "secret" },
    ]);
  });

  test("a variable the policy sets (--env NAME passes the caller's value) is never removed", () => {
    const set = { GITHUB_TOKEN: "ghs_secret", MY_SETTING: "1" };
    expect(environmentRemovals(vars, { ...policy, allowList: true, set }).map((v) => v.name)).toEqual([
      "DATABASE_URL",
      "CI_JOB_TOKEN",
    ]);
  });

  test("a cleared environment inherits nothing, so nothing is removed", () => {
    expect(environmentRemovals(vars, { ...policy, clear: true })).toEqual([]);
  });
});
