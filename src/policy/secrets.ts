// Secure defaults: credential stores and host control sockets every profile
// hides unless a policy reveals them by name. Only paths that exist are hidden.
import type { SECRET_NAMES } from "./schema.ts";

type SecretName = (typeof SECRET_NAMES)[number];

export interface SecretContext {
  home: string;
  env: Record<string, string | undefined>;
}

function runtimeDir(context: SecretContext): string[] {
  return context.env.XDG_RUNTIME_DIR ? [context.env.XDG_RUNTIME_DIR] : [];
}

function sessionBusPath(context: SecretContext): string[] {
  const address = context.env.DBUS_SESSION_BUS_ADDRESS ?? "";
  const match = /unix:path=([^,;]+)/.exec(address);
  return [...(match ? [match[1]!] : []), ...runtimeDir(context).map((dir) => `${dir}/bus`)];
}

export const SECRETS: Record<SecretName, { what: string; paths: (context: SecretContext) => string[] }> = {
  ssh: { what: "SSH keys", paths: ({ home }) => [`${home}/.ssh`] },
  gnupg: { what: "GnuPG keys", paths: ({ home }) => [`${home}/.gnupg`] },
  aws: { what: "AWS credentials", paths: ({ home }) => [`${home}/.aws`] },
  gcloud: { what: "Google Cloud credentials", paths: ({ home }) => [`${home}/.config/gcloud`] },
  kube: { what: "Kubernetes config", paths: ({ home }) => [`${home}/.kube`] },
  "docker-config": { what: "Docker registry credentials", paths: ({ home }) => [`${home}/.docker/config.json`] },
  netrc: { what: "~/.netrc", paths: ({ home }) => [`${home}/.netrc`] },
  "git-credentials": { what: "git credential store", paths: ({ home }) => [`${home}/.git-credentials`] },
  npmrc: { what: "npm tokens", paths: ({ home }) => [`${home}/.npmrc`] },
  pypirc: { what: "PyPI tokens", paths: ({ home }) => [`${home}/.pypirc`] },
  "docker-socket": {
    what: "the Docker daemon socket",
    paths: (context) => [
      "/var/run/docker.sock",
      "/run/docker.sock",
      ...runtimeDir(context).map((dir) => `${dir}/docker.sock`),
    ],
  },
  "containerd-socket": { what: "the containerd socket", paths: () => ["/run/containerd/containerd.sock"] },
  "podman-socket": {
    what: "the Podman socket",
    paths: (context) => ["/run/podman/podman.sock", ...runtimeDir(context).map((dir) => `${dir}/podman/podman.sock`)],
  },
  "session-bus": { what: "the D-Bus session bus", paths: sessionBusPath },
  "ssh-agent": { what: "the SSH agent socket", paths: ({ env }) => (env.SSH_AUTH_SOCK ? [env.SSH_AUTH_SOCK] : []) },
  "gpg-agent": {
    what: "the GnuPG agent sockets",
    paths: (context) => runtimeDir(context).map((dir) => `${dir}/gnupg`),
  },
};

/** Every candidate path of each secret that is not revealed. */
export function hiddenSecrets(
  reveal: readonly SecretName[],
  context: SecretContext,
): { name: SecretName; path: string }[] {
  return (Object.keys(SECRETS) as SecretName[])
    .filter((name) => !reveal.includes(name))
    .flatMap((name) => SECRETS[name].paths(context).map((path) => ({ name, path })));
}
