// Network off by default, on with --net, proven with a real listener in the
// test process: the connection attempt fails with EPERM and never arrives.
import { afterAll, describe, expect, test } from "bun:test";
import { cordonAsync, finish, missingSystemTool, start, systemTool, waitFor, modeArgs } from "../helpers/cordon.ts";
import { CONNECT_SCRIPT, listenLocal } from "../helpers/net.ts";

const LL = [...modeArgs("landlock"), "-q"];
const PYTHON = systemTool("python3") ?? "python3";
const listener = listenLocal();
afterAll(() => listener.stop());

/** Connects from outside any sandbox and waits until the listener has seen it. */
async function controlConnection(): Promise<void> {
  const before = listener.connections();
  const result = await finish(start([PYTHON, "-c", CONNECT_SCRIPT, String(listener.port)]));
  expect(result.stdout.trim()).toBe("connected");
  await waitFor(() => listener.connections() > before, "the control connection");
}

describe.skipIf(Boolean(missingSystemTool("python3")))("network", () => {
  test("blocked by default: socket(AF_INET) fails with EPERM and no connection arrives", async () => {
    await controlConnection(); // the attack works without cordon
    const before = listener.connections();
    const result = await cordonAsync([...LL, "--", PYTHON, "-c", CONNECT_SCRIPT, String(listener.port)]);
    expect(result.stdout.trim()).toBe("errno 1");
    expect(result.exitCode).toBe(3);
    // A later connection is accepted in order: had the sandboxed one arrived, the count would be 2 higher.
    await controlConnection();
    expect(listener.connections()).toBe(before + 1);
  });

  test("the Done-when example: socket.socket(AF_INET) raises EPERM", async () => {
    const result = await cordonAsync([...LL, "--", PYTHON, "-c", "import socket; socket.socket(socket.AF_INET)"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("PermissionError");
    expect(result.stderr).toContain("Operation not permitted");
  });

  test("every non-unix family is refused, AF_UNIX and socketpair(AF_UNIX) work", async () => {
    const script = `
import socket
for name in ["AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"]:
    try:
        socket.socket(getattr(socket, name), socket.SOCK_DGRAM if name != "AF_PACKET" else socket.SOCK_RAW)
        print(name, "open")
    except OSError as e:
        print(name, e.errno)
try:
    socket.socketpair(socket.AF_INET, socket.SOCK_STREAM)
    print("socketpair-inet open")
except OSError as e:
    print("socketpair-inet", e.errno)
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
a.sendall(b"x"); print("unix", b.recv(1).decode())
`;
    const result = await cordonAsync([...LL, "--", PYTHON, "-c", script]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("AF_INET 1\nAF_INET6 1\nAF_NETLINK 1\nAF_PACKET 1\nsocketpair-inet 1\nunix x\n");
  });

  test("--net allows it: the connection arrives", async () => {
    const before = listener.connections();
    const result = await cordonAsync([...LL, "--net", "--", PYTHON, "-c", CONNECT_SCRIPT, String(listener.port)]);
    expect(result.stdout.trim()).toBe("connected");
    expect(result.exitCode).toBe(0);
    await waitFor(() => listener.connections() > before, "the sandboxed connection");
    expect(listener.connections()).toBe(before + 1);
  });
});
