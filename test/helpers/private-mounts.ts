// Socket fixtures of the host-socket reviews: a mount namespace of the test's
// own, with fresh tmpfs mounts where the fixtures live. Their sockets are
// listed in /proc/net/unix for every cordon on this machine, but their files
// exist only in there, so other runs skip them instead of tripping over them.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { expect } from "bun:test";
import { randomKey } from "./attacks.ts";
import { commandLine, run, type RunResult } from "./cordon.ts";

/** A path's bytes in hex: the fixtures' Python takes any bytes that way. */
export const hex = (path: string | Buffer) => (typeof path === "string" ? Buffer.from(path) : path).toString("hex");

/** Connects to the path (hex); prints "connected" or the errno name. */
export const CLIENT = `
import errno, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(bytes.fromhex(sys.argv[1]))
    print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
`;

/** The network settings a cover must hold under. */
export const NETWORKS: [string, string[]][] = [
  ["the network off", []],
  ["--net", ["--net"]],
];

/** Waits for a fixture's "ready" line; returns what it printed before it. */
export async function untilReady(child: Subprocess<"ignore", "pipe", "pipe">): Promise<string> {
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the fixture did not start: ${await new Response(child.stderr).text()}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.slice(0, text.indexOf("ready\n"));
}

interface NamespaceOptions {
  /** The tmpfs mounts' mode: sticky and open to all, like /var/tmp, unless said otherwise. */
  mode?: string;
  /** Where commands start in there (nsenter's --wd would open it outside). */
  cwd: string;
  /** The cordon to run, and the python for the control connect. */
  cordon: string;
  python: string;
}

/** A mount namespace of the test's own, with a fresh tmpfs at each of `dirs`. */
export class PrivateMounts {
  private readonly children: Subprocess[] = [];
  private constructor(
    private readonly holder: Subprocess<"ignore", "pipe", "pipe">,
    private readonly options: NamespaceOptions,
  ) {
    this.children.push(holder);
  }

  static async open(dirs: string[], options: NamespaceOptions): Promise<PrivateMounts> {
    const mounts = `for d in "$@"; do mount -t tmpfs -o mode=${options.mode ?? "1777"} none "$d" || exit 1; done`;
    const script = `${mounts}; echo ready; exec sleep 600`;
    const holder = Bun.spawn(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", ...dirs], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    await untilReady(holder);
    return new PrivateMounts(holder, options);
  }

  private enter(argv: string[], cwd = this.options.cwd): string[] {
    const chdir = ["sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", cwd];
    return ["nsenter", "-t", String(this.holder.pid), "-m", "--", ...chdir, ...argv];
  }

  /** Starts a fixture in here that prints "ready"; returns what it printed before. */
  async start(argv: string[], options: { asNobody?: boolean } = {}): Promise<string> {
    const child = Bun.spawn(this.enter(commandLine(argv, options.asNobody)), {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.children.push(child);
    return untilReady(child);
  }

  run(argv: string[], options: { asNobody?: boolean; cwd?: string } = {}): RunResult {
    return run(this.enter(commandLine(argv, options.asNobody), options.cwd));
  }

  /** connect(2) to `path` from in here, without cordon: the control. */
  connect(path: string | Buffer, options: { asNobody?: boolean; cwd?: string } = {}): string {
    return this.run([this.options.python, "-c", CLIENT, hex(path)], options).stdout.trim();
  }

  /** cordon in bwrap mode, trying to connect to `path`. */
  connectBoxed(
    path: string | Buffer,
    extra: string[] = [],
    options: { asNobody?: boolean; cwd?: string } = {},
  ): RunResult {
    const { cordon, python } = this.options;
    return this.run([cordon, "--mode", "bwrap", "-q", ...extra, "--", python, "-c", CLIENT, hex(path)], options);
  }

  close(): void {
    for (const child of this.children) child.kill("SIGKILL");
  }
}

/** A fresh host directory under `scratch`, to be a private tmpfs inside the namespace. */
export function mountPoint(scratch: string, prefix: string): string {
  const dir = join(scratch, `${prefix}-${randomKey()}`);
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

/** The command ran and could not reach the socket. */
export function expectUnreachable(result: RunResult): void {
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  expect(["ECONNREFUSED", "EACCES", "ENOENT"]).toContain(result.stdout.trim());
}
