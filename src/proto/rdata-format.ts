/** RDATA in presentation form: the inverse of parseRdata, field by field (rdata.ts's table). */
import ipaddr from "ipaddr.js";
import { presentName } from "./name.js";
import { DESCRIPTORS, RdataError, readWireName } from "./rdata.js";
import { formatBase32hex, formatBitmap, formatTime } from "./rdata-fields.js";
import { typeName } from "./types.js";

function quote(bytes: Buffer): string {
  let s = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\${String(b).padStart(3, "0")}`;
  }
  return `${s}"`;
}

function generic(wire: Buffer): string {
  return `\\# ${wire.length}${wire.length > 0 ? ` ${wire.toString("hex").toUpperCase()}` : ""}`;
}

/** The RFC 3597 form when a type has no field list, or its RDATA cannot be read as one. */
export function formatRdata(type: number, wire: Buffer): string {
  const fields = DESCRIPTORS.get(type);
  if (!fields) return generic(wire);
  const out: string[] = [];
  let o = 0;
  const need = (n: number) => {
    if (o + n > wire.length) throw new RdataError("short RDATA");
  };
  try {
    for (const field of fields) {
      switch (field) {
        case "name": {
          const labels = readWireName(wire, o);
          out.push(presentName(labels));
          o += labels.reduce((n, l) => n + l.length + 1, 1);
          break;
        }
        case "u8":
          need(1);
          out.push(String(wire[o]));
          o += 1;
          break;
        case "u16":
          need(2);
          out.push(String(wire.readUInt16BE(o)));
          o += 2;
          break;
        case "u32":
        case "period":
          need(4);
          out.push(String(wire.readUInt32BE(o)));
          o += 4;
          break;
        case "ipv4":
          need(4);
          out.push(ipaddr.fromByteArray([...wire.subarray(o, o + 4)]).toString());
          o += 4;
          break;
        case "ipv6":
          need(16);
          out.push(ipaddr.fromByteArray([...wire.subarray(o, o + 16)]).toString());
          o += 16;
          break;
        case "string":
        case "strings":
          do {
            need(1);
            const len = wire[o]!;
            need(1 + len);
            out.push(quote(wire.subarray(o + 1, o + 1 + len)));
            o += 1 + len;
          } while (field === "strings" && o < wire.length);
          break;
        case "hex":
          out.push(wire.subarray(o).toString("hex").toUpperCase());
          o = wire.length;
          break;
        case "base64":
          out.push(wire.subarray(o).toString("base64"));
          o = wire.length;
          break;
        case "caa-tag": {
          need(1);
          const len = wire[o]!;
          need(1 + len);
          out.push(wire.toString("latin1", o + 1, o + 1 + len));
          o += 1 + len;
          break;
        }
        case "caa-value":
        case "octets":
          out.push(quote(wire.subarray(o)));
          o = wire.length;
          break;
        case "type":
          need(2);
          out.push(typeName(wire.readUInt16BE(o)));
          o += 2;
          break;
        case "algorithm":
          need(1);
          out.push(String(wire[o]));
          o += 1;
          break;
        case "cert-type":
          need(2);
          out.push(String(wire.readUInt16BE(o)));
          o += 2;
          break;
        case "time":
          need(4);
          out.push(formatTime(wire.readUInt32BE(o)));
          o += 4;
          break;
        case "bitmap":
          out.push(formatBitmap(wire.subarray(o)));
          o = wire.length;
          break;
        case "salt": {
          need(1);
          const len = wire[o]!;
          need(1 + len);
          out.push(
            len === 0
              ? "-"
              : wire
                  .subarray(o + 1, o + 1 + len)
                  .toString("hex")
                  .toUpperCase(),
          );
          o += 1 + len;
          break;
        }
        case "b32hex": {
          need(1);
          const len = wire[o]!;
          need(1 + len);
          out.push(formatBase32hex(wire.subarray(o + 1, o + 1 + len)));
          o += 1 + len;
          break;
        }
        case "eui48":
        case "eui64": {
          const n = field === "eui48" ? 6 : 8;
          need(n);
          out.push([...wire.subarray(o, o + n)].map((b) => b.toString(16).padStart(2, "0")).join("-"));
          o += n;
          break;
        }
        case "l64":
          need(8);
          out.push(
            [0, 2, 4, 6]
              .map((k) =>
                wire
                  .readUInt16BE(o + k)
                  .toString(16)
                  .padStart(4, "0"),
              )
              .join(":"),
          );
          o += 8;
          break;
      }
    }
    if (o !== wire.length) return generic(wire);
    return out.join(" ");
  } catch {
    return generic(wire);
  }
}
