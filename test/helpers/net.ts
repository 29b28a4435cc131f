// A TCP listener in the test process, to prove a connection did or did not arrive.

export interface Listener {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  stop(): void;
}

export function listenLocal(): Listener {
  let count = 0;
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open() {
        count++;
      },
      data() {},
    },
  });
  return { port: server.port, connections: () => count, stop: () => server.stop(true) };
}

/** python3 -c CONNECT_SCRIPT PORT: prints "connected", or "errno N" and exits 3. */
export const CONNECT_SCRIPT = `
import socket, sys
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.close()
    print("connected")
except OSError as e:
    print("errno", e.errno)
    sys.exit(3)
`;
