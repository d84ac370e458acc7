/**
 * Reload on file change: watches the zones directory (and the pools file, if it lives elsewhere)
 * and calls `reload` once things settle, so an editor's save or `lbdns zone add` (temp file +
 * rename) triggers one reload, not several. inotify via fs.watch is enough here: the directory is
 * local and flat, and every edit ends in a rename or write event on the real file name.
 */
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { KEYS_SUFFIX } from "../dnssec/keyfile.js";

export function watchZones(
  zonesDir: string,
  poolsFile: string,
  debounceMs: number,
  reload: () => void,
): () => void {
  let timer: NodeJS.Timeout | null = null;
  const poolsName = basename(poolsFile);
  const relevant = (name: string | null) =>
    name === null ||
    (!name.startsWith(".") &&
      (name.endsWith(".zone") || name === poolsName || name.endsWith(".inc") || name.endsWith(KEYS_SUFFIX)));
  const trigger = (name: string | null) => {
    if (!relevant(name)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      reload();
    }, debounceMs);
  };
  const watchers: FSWatcher[] = [watch(zonesDir, (_event, name) => trigger(name))];
  if (resolve(dirname(poolsFile)) !== resolve(zonesDir)) {
    watchers.push(
      watch(dirname(poolsFile), (_event, name) => (name === poolsName ? trigger(name) : undefined)),
    );
  }
  for (const w of watchers) w.on("error", () => {}); // a vanished directory must not crash the server
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
