import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CharTokenizer, defaults } from "../../lib/model/tokenizer-char.js";
import { HfTokenizer } from "../../lib/model/tokenizer-hf.js";
import { loadTokenizer, saveTokenizer, tokenizerFiles, tokenizerFromFiles } from "../../lib/model/tokenizer-io.js";

const FIX = path.join(__dirname, "fixtures", "tiny-bpe");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-tok-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

test("CharTokenizer defaults are pad/bos/eos with no byte fallback", () => {
  assert.deepEqual(defaults, {
    pad: "<pad>",
    bos: "<bos>",
    eos: "<eos>",
    unk: null,
    specials: [],
    byteFallback: false,
    addBos: false,
    addEos: false,
    chatTemplate: null,
  });
});

test("CharTokenizer gives specials the first ids and matches them greedily before characters", () => {
  const tok = CharTokenizer.fromAlphabet("0123456789+=<>/thinkabc ", { specials: ["<think>", "</think>", "<th>"] });
  // ids: <pad>0 <bos>1 <eos>2 <think>3 </think>4 <th>5, then "0"=6 ... "9"=15, "+"=16, "="=17, "<"=18, ">"=19, "/"=20, "t"=21 ...
  assert.equal(tok.vocabSize, 6 + 24); // 6 specials + 24 distinct characters
  assert.equal(tok.padTokenId, 0);
  assert.equal(tok.bosTokenId, 1);
  assert.equal(tok.eosTokenId, 2);
  assert.deepEqual(tok.encode("<think>1+2=3</think><eos>"), [3, 7, 16, 8, 17, 9, 4, 2]);
  // "<th>" wins over "<" + "t" + "h" + ">", and "<thi" (no special) falls back to characters.
  assert.deepEqual(tok.encode("<th><thi"), [5, 18, 21, tok.tokenToId("h")!, tok.tokenToId("i")!]);
  assert.equal(tok.decode([3, 7, 16, 8, 17, 9, 4, 2]), "<think>1+2=3</think><eos>");
  assert.equal(tok.decode([1, 7, 4, 2, 0], { skipSpecialTokens: true }), "1");
  assert.equal(tok.tokenToString(2), "<eos>");
  assert.equal(tok.tokenToString(16), "+");
});

test("CharTokenizer from a corpus sorts characters and keeps specials whole", () => {
  const tok = CharTokenizer.fromCorpus(["ba<think>", "ca"], { specials: ["<think>"], bos: null });
  assert.deepEqual(tok.tokens, ["<pad>", "<eos>", "<think>", "a", "b", "c"]);
  assert.equal(tok.bosTokenId, undefined);
  assert.deepEqual(tok.encode("cab<think>"), [5, 3, 4, 2]);
});

test("CharTokenizer errors on unknown characters unless byteFallback or unk is set", () => {
  const tok = CharTokenizer.fromAlphabet("ab");
  assert.throws(
    () => tok.encode("abé"),
    /character "é" \(U\+00E9\) at index 2 is not in the alphabet .* \{byteFallback: true\} or \{unk: "<unk>"\}/,
  );
  const unk = CharTokenizer.fromAlphabet("ab", { unk: "<unk>" });
  assert.deepEqual(unk.encode("aéb"), [4, 3, 5]);
  const bytes = CharTokenizer.fromAlphabet("ab", { byteFallback: true });
  // é = C3 A9, 🙂 = F0 9F 99 82; byte tokens start after 3 specials + 2 chars = 5.
  const ids = bytes.encode("aé🙂b");
  assert.deepEqual(ids, [3, 5 + 0xc3, 5 + 0xa9, 5 + 0xf0, 5 + 0x9f, 5 + 0x99, 5 + 0x82, 4]);
  assert.equal(bytes.decode(ids), "aé🙂b");
  assert.equal(bytes.tokenToString(5 + 0xc3), "<0xC3>");
  assert.equal(bytes.decode([5 + 0xc3]), "\ufffd"); // a lone lead byte is invalid UTF-8
  assert.throws(
    () => bytes.decode([999]),
    /id 999 at position 0 is outside the vocabulary \(expected an integer in 0\.\.260\)/,
  );
  assert.throws(() => CharTokenizer.fromAlphabet("a", { specials: ["a"] }), /token "a" appears twice/);
  assert.throws(() => CharTokenizer.fromAlphabet(["ab"]), /alphabet entries must be single characters \(got "ab"\)/);
});

test("CharTokenizer adds BOS/EOS only when configured and asked", () => {
  const tok = CharTokenizer.fromAlphabet("x", { addBos: true, addEos: true });
  assert.deepEqual(tok.encode("x"), [1, 3, 2]);
  assert.deepEqual(tok.encode("x", { addSpecialTokens: false }), [3]);
  assert.throws(() => CharTokenizer.fromAlphabet("x", { bos: null, addBos: true }), /addBos is true but bos is null/);
});

test("CharTokenizer saves as a HuggingFace tokenizer.json that @huggingface/tokenizers reads identically", () => {
  const tok = CharTokenizer.fromAlphabet("0123456789+= \n", {
    specials: ["<think>", "</think>"],
    byteFallback: true,
    addBos: true,
    chatTemplate: "{{ messages[0].content }}",
  });
  const files = tokenizerFiles(tok);
  assert.equal((files.tokenizer.model as { type: string }).type, "BPE");
  assert.equal(files.config.tokenizer_class, "PreTrainedTokenizerFast");
  const viaHf = new HfTokenizer(files.tokenizer, files.config);
  for (const s of ["12+30=42", "<think>7\n</think> 1", "é+9"]) {
    assert.deepEqual(viaHf.encode(s), tok.encode(s), s);
    assert.equal(viaHf.decode(tok.encode(s)), tok.decode(tok.encode(s)), s);
  }
  assert.equal(viaHf.bosTokenId, tok.bosTokenId);
  assert.equal(viaHf.vocabSize, tok.vocabSize);
  saveTokenizer(path.join(tmp, "char"), tok);
  const back = loadTokenizer(path.join(tmp, "char"));
  assert.ok(back instanceof CharTokenizer, "recognised as a char tokenizer again");
  assert.deepEqual(back.tokens, tok.tokens);
  assert.deepEqual(back.options, tok.options);
});

const fixture = () => loadTokenizer(FIX) as HfTokenizer;

test("HfTokenizer encodes a Qwen2-shaped byte-level BPE to hand-computed ids", () => {
  const tok = fixture();
  assert.ok(tok instanceof HfTokenizer);
  assert.equal(tok.vocabSize, 274);
  assert.equal(tok.eosTokenId, 271);
  assert.equal(tok.padTokenId, 269);
  assert.equal(tok.bosTokenId, undefined);
  // "hello" merges h e -> he, l l -> ll, he ll -> hell, hell o -> hello (260); " world" -> Ġworld (264).
  assert.deepEqual(tok.encode("hello world"), [260, 264]);
  // The Qwen2 split regex isolates each digit, so the "1 2" merge never applies.
  assert.deepEqual(tok.encode("12"), [16, 17]);
  // "H"=39 "i"=72; the newline is its own pre-token, byte 10 -> "Ċ" = 198.
  assert.deepEqual(tok.encode("Hi\n"), [39, 72, 198]);
  // é = bytes C3 A9 -> "Ã" (id 127) "©" (id 102).
  assert.deepEqual(tok.encode("é"), [127, 102]);
  assert.deepEqual(tok.encode("the the"), [83, 257, 266]);
  assert.deepEqual(tok.encode("<|im_start|>user\nhi<|im_end|>"), [270, 84, 82, 68, 81, 198, 71, 72, 271]);
  assert.equal(tok.tokenToString(264), "Ġworld");
  assert.equal(tok.tokenToString(271), "<|im_end|>");
});

test("HfTokenizer decode inverts encode, including specials and multi-byte text", () => {
  const tok = fixture();
  for (const s of [
    "hello world",
    "  two  spaces ",
    "é and 🙂 \n\n x",
    "<|im_start|>user\nhi<|im_end|>",
    "<think>12</think>",
    "don't",
    "",
  ])
    assert.equal(tok.decode(tok.encode(s)), s, JSON.stringify(s));
  assert.equal(tok.decode([270, 84, 82, 68, 81, 271], { skipSpecialTokens: true }), "user");
  assert.equal(tok.decode([]), "");
  assert.throws(() => tok.decode([274]), /id 274 at position 0 is outside the vocabulary/);
});

test("loadTokenizer explains missing or unusable files", () => {
  fs.mkdirSync(path.join(tmp, "slow"));
  fs.writeFileSync(path.join(tmp, "slow", "tokenizer.model"), "x");
  assert.throws(
    () => loadTokenizer(path.join(tmp, "slow")),
    /tokenizer\.json does not exist \(found tokenizer\.model: a slow-tokenizer format/,
  );
  assert.throws(() => new HfTokenizer({ model: { type: "Nope" } }), /cannot build this tokenizer\.json/);
  const files = JSON.parse(fs.readFileSync(path.join(FIX, "tokenizer.json"), "utf8"));
  assert.throws(
    () => tokenizerFromFiles({ tokenizer: files, config: { eos_token: "<|nope|>" } }),
    /eos_token is "<\|nope\|>", which is not in the vocabulary/,
  );
});

test("an HfTokenizer saves back its files unchanged", () => {
  const tok = fixture();
  saveTokenizer(path.join(tmp, "hf"), tok);
  assert.deepEqual(
    JSON.parse(fs.readFileSync(path.join(tmp, "hf", "tokenizer.json"), "utf8")),
    JSON.parse(fs.readFileSync(path.join(FIX, "tokenizer.json"), "utf8")),
  );
  const back = loadTokenizer(path.join(tmp, "hf"));
  assert.ok(back instanceof HfTokenizer);
  assert.deepEqual(back.encode("hello world"), [260, 264]);
});
