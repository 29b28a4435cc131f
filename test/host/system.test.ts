// Host facts read from /proc and the filesystem, fed as text.
import { describe, expect, test } from "bun:test";
import { detectContainer } from "../../src/host/system.ts";

describe("container markers", () => {
  const none = (_path: string) => false;
  test.each([
    [{ exists: (p: string) => p === "/.dockerenv" }, "docker"],
    [{ exists: (p: string) => p === "/run/.containerenv" }, "podman"],
    [{ exists: none, containerEnv: "systemd-nspawn" }, "systemd-nspawn"],
    [{ exists: none, cgroup: "0::/kubepods/besteffort/pod1/abc\n" }, "kubernetes"],
    [{ exists: none, cgroup: "0::/system.slice/docker-abc.scope\n" }, "docker"],
    [{ exists: none, cgroup: "0::/init.scope\n" }, undefined],
  ])("%#", (input, kind) => {
    expect(detectContainer(input).kind).toBe(kind);
  });
});
