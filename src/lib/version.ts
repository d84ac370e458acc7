/** The version lbdns reports (--version, version.bind). */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The package's version, from the package.json above this file (in src/ and in dist/src/ alike). */
export function packageVersion(): string {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "lbdns" && pkg.version) return pkg.version;
    } catch {
      // no package.json here: keep walking up
    }
  }
  return "unknown";
}
