/**
 * Splits an RFC 1035 §5.1 master file into logical entries.
 *
 * An entry is one line, or several physical lines joined by parentheses. Tokens keep their
 * escapes (`\.`, `\DDD`) untouched because their meaning depends on the field (a name label or
 * a character string); quotes are removed and remembered. An entry that begins with white space
 * has no owner field and inherits the previous owner.
 */
import { UserError } from "../lib/errors.js";

export interface Token {
  text: string;
  quoted: boolean;
  /** Offsets of the token in the source (quotes included), for precise edits. */
  start: number;
  end: number;
}

export interface Entry {
  tokens: Token[];
  /** True when the entry starts with white space (owner omitted). */
  blankOwner: boolean;
  /** 1-based lines where the entry starts and ends (parentheses can span lines). */
  line: number;
  endLine: number;
}

export class LexError extends UserError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/**
 * A bound on one entry (from its first character to its last token), so a hostile file's
 * giant line cannot make millions of tokens. Generous: the largest RDATA (65,535 octets) in the
 * longest presentation form (\DDD, four characters an octet) fits.
 */
export const MAX_ENTRY_CHARS = 1 << 20;

export function lex(source: string): Entry[] {
  return [...lexEntries(source)];
}

/**
 * The entries one at a time, so a large zone is never held as one token list. Token text is a
 * slice of the source: escapes are kept as written, so no character needs copying.
 */
export function* lexEntries(source: string): Generator<Entry> {
  let tokens: Token[] = [];
  let line = 1;
  let entryLine = 1;
  let entryStart = 0;
  let depth = 0;
  let blankOwner = false;
  let atLineStart = true;
  let i = 0;
  const n = source.length;

  while (i < n) {
    const c = source[i]!;
    if (atLineStart && depth === 0) {
      blankOwner = c === " " || c === "\t";
      entryLine = line;
      entryStart = i;
      atLineStart = false;
    }
    if (c === "\n") {
      // The entry ends on this line: finish it before counting the newline.
      if (depth === 0) {
        if (tokens.length > 0) yield { tokens, blankOwner, line: entryLine, endLine: line };
        tokens = [];
        atLineStart = true;
      }
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === ";") {
      while (i < n && source[i] !== "\n") i++;
      continue;
    }
    if (c === "(") {
      depth++;
      i++;
      continue;
    }
    if (c === ")") {
      if (depth === 0) throw new LexError("')' without matching '('", line);
      depth--;
      i++;
      continue;
    }
    if (c === '"') {
      const startLine = line;
      const start = i;
      i++;
      for (;;) {
        if (i >= n) throw new LexError("unterminated quoted string", startLine);
        const q = source[i]!;
        if (q === '"') break;
        if (q === "\\" && i + 1 < n) {
          if (source[i + 1] === "\n") line++;
          i += 2;
          continue;
        }
        if (q === "\n") line++;
        i++;
      }
      i++;
      tokens.push({ text: source.slice(start + 1, i - 1), quoted: true, start, end: i });
      if (i - entryStart > MAX_ENTRY_CHARS)
        throw new LexError(`entry longer than ${MAX_ENTRY_CHARS} characters`, entryLine);
      continue;
    }
    const start = i;
    while (i < n) {
      const t = source[i]!;
      if (
        t === " " ||
        t === "\t" ||
        t === "\r" ||
        t === "\n" ||
        t === ";" ||
        t === "(" ||
        t === ")" ||
        t === '"'
      ) {
        break;
      }
      i += t === "\\" && i + 1 < n ? 2 : 1;
    }
    tokens.push({ text: source.slice(start, i), quoted: false, start, end: i });
    if (i - entryStart > MAX_ENTRY_CHARS)
      throw new LexError(`entry longer than ${MAX_ENTRY_CHARS} characters`, entryLine);
  }
  if (depth !== 0) throw new LexError("unbalanced '(' at end of file", entryLine);
  if (tokens.length > 0) yield { tokens, blankOwner, line: entryLine, endLine: line };
}
