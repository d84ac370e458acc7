/** The CI slice of the fuzz harness: 50,000 hostile packets through the whole query path. */
import { join } from "node:path";
import { expect, it } from "vitest";
import {
  exampleResponder,
  fuzzResponder,
  hostilePackets,
  newTally,
  seedQueries,
} from "../../../bench/fuzz.js";
import { makeQuery, parse } from "../../helpers/packets.js";

it("answers 50,000 hostile packets without a crash or a malformed response, and then correctly", () => {
  const { responder, caught } = exampleResponder(join(import.meta.dirname, "../../../zones"));
  const tally = newTally();
  // The corpus itself first: every real query must get a well-formed answer.
  fuzzResponder(responder, seedQueries(), tally, caught);
  expect(tally.dropped).toBe(0);
  for (let batch = 0; batch < 5; batch++)
    fuzzResponder(responder, hostilePackets(10_000, batch), tally, caught);
  expect(tally.problems).toEqual([]);
  expect(tally).toMatchObject({ crashes: 0, malformed: 0 });
  expect(tally.inputs).toBeGreaterThan(50_000);
  // Both outcomes occur, so the generator reaches past the decoder and into it.
  expect(tally.answered).toBeGreaterThan(10_000);
  expect(tally.dropped).toBeGreaterThan(100);

  const after = parse(responder.answer(makeQuery("mx1.example.com"), "udp", "127.0.0.1")!);
  expect(after.header.rcode).toBe(0);
  expect(after.answers.map((a) => (a as { address?: string }).address)).toEqual(["192.0.2.21"]);
});
