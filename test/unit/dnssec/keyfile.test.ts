/** The key file: checked field by field, and its text (private keys) never in an error message. */
import { chmodSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../../src/dnssec/key.js";
import { KeyFileError, newKeyRecord, readKeyFile, serializeKeys } from "../../../src/dnssec/keyfile.js";
import { tempDir } from "../../helpers/zones.js";

function state() {
  const key = generateKey("ecdsap256");
  return {
    version: 1 as const,
    zone: "example.com.",
    dnskeyTtl: 3600,
    keys: [newKeyRecord(key, "active", new Date(0))],
    roll: null,
    disabling: null,
  };
}

describe("key file", () => {
  it("reads what it writes, and warns when others can read it", () => {
    const tmp = tempDir();
    try {
      const s = state();
      const path = tmp.write("example.com.keys", serializeKeys(s));
      chmodSync(path, 0o600);
      const loaded = readKeyFile(path);
      expect(loaded.keys[0]!.key.tag).toBe(s.keys[0]!.tag);
      expect(loaded.warning).toBeNull();
      chmodSync(path, 0o644);
      expect(readKeyFile(path).warning).toMatch(/mode is 644; run chmod 600/);
    } finally {
      tmp.cleanup();
    }
  });

  it("names the broken field without quoting a key", () => {
    const s = state();
    const pem = s.keys[0]!.privateKey;
    const broken = { ...s, keys: [{ ...s.keys[0]!, privateKey: pem.replace(/[A-Za-z]{8}/, "AAAAAAAA") }] };
    const check = (text: string, message: RegExp) => {
      let error: Error | null = null;
      try {
        readKeyFile("/virtual/example.com.keys", text);
      } catch (e) {
        error = e as Error;
      }
      expect(error).toBeInstanceOf(KeyFileError);
      expect(error!.message).toMatch(message);
      expect(error!.message).not.toContain(pem.split("\n")[1]!.slice(0, 16));
    };
    check(serializeKeys(broken), /keys\.0: not a usable private key|keys\.0: the key's tag is/);
    check(
      serializeKeys({ ...s, keys: [{ ...s.keys[0]!, tag: (s.keys[0]!.tag + 1) % 65536 }] }),
      /keys\.0: the key's tag is/,
    );
    check(serializeKeys({ ...s, keys: [{ ...s.keys[0]!, role: "published" as const }] }), /no active key/);
    check(`${serializeKeys(s).slice(0, 100)}`, /not valid JSON/);
    check(JSON.stringify({ ...s, dnskeyTtl: -1 }), /dnskeyTtl/);
  });
});
