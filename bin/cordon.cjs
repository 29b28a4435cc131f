#!/usr/bin/env node
// npm's entry point for cordon: runs the prebuilt binary for this machine from
// the package's dist/npm/ (cordon-linux-<x64|arm64>[-musl]). No shell: the
// arguments go through untouched, and cordon's exit status, or the signal that
// ended it, becomes this process's own. See docs/npm.md.
"use strict";
const { spawn } = require("node:child_process");
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const { constants } = require("node:os");

function isMusl() {
  // Node's own report names the glibc it runs on; on musl there is none.
  const report = typeof process.report?.getReport === "function" ? process.report.getReport() : undefined;
  return !report?.header?.glibcVersionRuntime;
}

function binaryPath() {
  if (process.platform !== "linux") throw new Error(`cordon runs on Linux only, not ${process.platform}`);
  if (process.arch !== "x64" && process.arch !== "arm64") throw new Error(`cordon has no build for ${process.arch}`);
  const name = `cordon-linux-${process.arch}${isMusl() ? "-musl" : ""}`;
  const path = join(__dirname, "..", "dist", "npm", name);
  if (!existsSync(path)) throw new Error(`this package has no ${name}; see docs/npm.md`);
  return path;
}

// Node decodes arguments as UTF-8 and would pass U+FFFD on in place of bytes
// that are not: cordon would then protect, or run, a different name.
function argumentsSurviveNode() {
  let raw;
  try {
    raw = require("node:fs").readFileSync("/proc/self/cmdline");
  } catch {
    return true;
  }
  const fromKernel = raw
    .subarray(0, raw.length - 1)
    .toString("latin1")
    .split("\0");
  const given = process.argv.slice(2);
  const tail = fromKernel.slice(fromKernel.length - given.length);
  return given.every((arg, i) => Buffer.from(arg, "utf8").toString("latin1") === tail[i]);
}

// The runtime inside the binary refuses to start in a deleted directory, with
// its own message and exit 1, before any cordon code runs: say it cordon's way.
function workingDirectoryExists() {
  try {
    process.cwd();
  } catch {
    throw new Error(
      "the working directory was deleted; cd to an existing directory (-C does not help: the runtime checks first)",
    );
  }
}

let binary;
try {
  if (!argumentsSurviveNode()) {
    throw new Error(
      "an argument is not valid UTF-8, and Node cannot pass it on unchanged; run the binary in dist/npm/ directly",
    );
  }
  workingDirectoryExists();
  binary = binaryPath();
} catch (error) {
  process.stderr.write(`cordon: ${error.message}\n`);
  process.exit(125);
}

// BUN_BE_BUN turns any compiled Bun program into the bun CLI and BUN_OPTIONS
// can preload code into it: either would run the user's command unsandboxed.
// They are removed for cordon only; pass them on with --env NAME=VALUE.
const env = { ...process.env };
delete env.BUN_BE_BUN;
delete env.BUN_OPTIONS;
// Where this package is: cordon refuses to run when a write root reaches it, since the sandboxed
// command could then rewrite this very file, and the next `npx cordon` would run its code unsandboxed.
// cordon removes the variable from the command's environment.
env.CORDON_NPM_PACKAGE = join(__dirname, "..");

const child = spawn(binary, process.argv.slice(2), { stdio: "inherit", env });

// Signals sent to this wrapper's pid go on to cordon, which forwards them to
// the command. A terminal's Ctrl-C reaches both already (same process group):
// the wrapper only needs to survive it, not send a second one.
const FORWARDED = ["SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];
for (const signal of FORWARDED) process.on(signal, () => child.kill(signal));
process.on("SIGINT", () => {});

child.on("error", (error) => {
  process.stderr.write(`cordon: cannot run ${binary}: ${error.message}\n`);
  process.exit(126);
});

child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal, so the caller sees what the caller of cordon would.
    for (const name of [...FORWARDED, "SIGINT"]) process.removeAllListeners(name);
    process.kill(process.pid, signal);
    // Signals that do not end a process by default (or are ignored here).
    process.exit(128 + (constants.signals[signal] ?? 0));
  }
  process.exit(code ?? 1);
});
