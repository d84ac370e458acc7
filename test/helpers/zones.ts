import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadZoneFile } from "../../src/zone/load.js";
import { ZoneSet } from "../../src/zone/zoneset.js";

/** Builds a zone set from master-file texts keyed by origin ("example.com."). */
export function zoneSet(texts: Record<string, string>): ZoneSet {
  return new ZoneSet(
    Object.entries(texts).map(([origin, text]) => loadZoneFile(`/virtual/${origin}zone`, text)),
  );
}

/** The SOA/NS preamble every test zone needs. */
export function apex(origin: string, ttl = 3600, minimum = 300): string {
  return `$ORIGIN ${origin}
$TTL ${ttl}
@ IN SOA ns1.${origin} hostmaster.${origin} 1 7200 3600 1209600 ${minimum}
@ IN NS ns1.${origin}
ns1 IN A 192.0.2.53
`;
}

export function tempDir(prefix = "lbdns-test-"): {
  dir: string;
  write(name: string, text: string): string;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
