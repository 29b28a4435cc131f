// With -v, and only when stderr is not a terminal (a pipe stays a pipe), the
// command's stderr passes through cordon so that a "Permission denied" the
// policy explains can get a hint line afterwards. Bytes are relayed as they
// come, unchanged; only the last 64 KiB are kept.
import { writeSync } from "node:fs";

const KEEP = 64 * 1024;

export class StderrTap {
  private kept = Buffer.alloc(0);

  /** Whether tapping would change what the command sees: never tap a terminal. */
  static wanted(verbose: boolean): boolean {
    return verbose && !process.stderr.isTTY;
  }

  async relay(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stream) {
      let offset = 0;
      while (offset < chunk.length) offset += writeSync(2, chunk, offset);
      this.kept = Buffer.concat([this.kept, chunk]);
      if (this.kept.length > KEEP) this.kept = this.kept.subarray(this.kept.length - KEEP);
    }
  }

  get tail(): string {
    return this.kept.toString("utf8");
  }
}
