// Fake bubblewrap binaries that fail the way real bwrap fails on restricted
// hosts, for simulating a missing layer on a host where bwrap works.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HOST_SCRATCH_BASE } from "../helpers/attacks.ts";

export class FakeBwraps {
  readonly dir = mkdtempSync(join(HOST_SCRATCH_BASE, "cordon-fake-bwrap-"));

  constructor() {
    chmodSync(this.dir, 0o755);
  }

  /** A bwrap that reports version 0.9.0 and otherwise prints `message` and exits 1. */
  failing(name: string, message: string): string {
    const path = join(this.dir, name);
    const quoted = message.replaceAll("'", `'\\''`);
    writeFileSync(
      path,
      `#!/bin/sh\nif [ "$1" = --version ]; then echo 'bubblewrap 0.9.0'; exit 0; ` +
        `fi\nprintf '%s\\n' '${quoted}' >&2\nexit 1\n`,
    );
    chmodSync(path, 0o755);
    return path;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const UID_MAP_DENIED = "bwrap: setting up uid map: Permission denied";
