/**
 * The ceiling for one Node process: a dgram responder that patches a canned answer into the
 * query (flip QR, set counts, append one A record behind a pointer to the question). No
 * decoding, no lookup: whatever lbdns does on top of this is its cost.
 */
import { createSocket } from "node:dgram";

const port = Number(process.argv[2] ?? 0);
const socket = createSocket("udp4");
const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 11]);

socket.on("message", (msg, rinfo) => {
  if (msg.length < 12) return;
  const out = Buffer.allocUnsafe(msg.length + answer.length);
  msg.copy(out);
  out[2] = (msg[2]! | 0x84) & 0xfd; // QR, AA
  out[3] = 0;
  out.writeUInt16BE(1, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  answer.copy(out, msg.length);
  socket.send(out, rinfo.port, rinfo.address);
});
socket.bind(port, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ msg: "raw serving", port: socket.address().port })}\n`);
});
