/** Starting the small HTTP servers (admin, metrics): listen, and report the port actually bound. */
import type { Server } from "node:http";

export function listenHttp(
  server: Server,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  // A client that sends garbage gets its socket closed, not a crash or a hung connection.
  server.on("clientError", (_err, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const addr = server.address();
      resolve({ server, port: typeof addr === "object" && addr ? addr.port : port });
    });
  });
}
