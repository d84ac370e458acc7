import { describe, expect, it } from "vitest";
import {
  isSubdomain,
  keyOf,
  NameError,
  parentKey,
  parseName,
  readQuestionName,
  toWire,
} from "../../../src/proto/name.js";

const origin = parseName("example.com.", null);

describe("names", () => {
  it("completes relative names with the origin and resolves @", () => {
    expect(keyOf(parseName("www", origin))).toBe("www.example.com");
    expect(keyOf(parseName("@", origin))).toBe("example.com");
    expect(keyOf(parseName("WWW.Example.ORG.", origin))).toBe("www.example.org");
    expect(keyOf(parseName(".", origin))).toBe("");
  });

  it("keeps escaped dots and \\DDD inside a label", () => {
    const labels = parseName("a\\.b.example.com.", null);
    expect(labels).toHaveLength(3);
    expect(labels[0]!.toString("latin1")).toBe("a.b");
    expect(keyOf(labels)).toBe("a\\046b.example.com");
    expect(keyOf(parseName("\\065bc.", null))).toBe("abc");
  });

  it("rejects empty labels, long labels and long names", () => {
    expect(() => parseName("a..b.", null)).toThrow(NameError);
    expect(() => parseName(`${"x".repeat(64)}.`, null)).toThrow(/63/);
    expect(() => parseName(`${"abcdefghi.".repeat(26)}`, null)).toThrow(/255/);
    expect(() => parseName("www", null)).toThrow(/relative/);
  });

  it("walks parents and subdomains by key", () => {
    expect(parentKey("a.b.c")).toBe("b.c");
    expect(parentKey("c")).toBe("");
    expect(parentKey("")).toBeNull();
    expect(isSubdomain("www.example.com", "example.com")).toBe(true);
    expect(isSubdomain("wwwexample.com", "example.com")).toBe(false);
    expect(isSubdomain("example.com", "example.com")).toBe(true);
    expect(isSubdomain("anything", "")).toBe(true);
  });

  it("reads question names case-insensitively and rejects pointers and overruns", () => {
    const wire = toWire(parseName("WwW.ExAmple.COM.", null));
    const name = readQuestionName(wire, 0);
    expect(name).toEqual({ key: "www.example.com", end: wire.length });
    expect(readQuestionName(Buffer.from([0xc0, 0x0c]), 0)).toBeNull();
    expect(readQuestionName(Buffer.from([5, 0x61, 0x62]), 0)).toBeNull();
    expect(readQuestionName(Buffer.from([]), 0)).toBeNull();
  });
});
