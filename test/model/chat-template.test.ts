import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { applyChatTemplate, chatTemplates, defaults, encodeChat } from "../../lib/model/chat-template.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";
import { loadTokenizer } from "../../lib/model/tokenizer-io.js";

const QWEN_SYS = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n";

test("defaults: no generation prompt", () => {
  assert.deepEqual(defaults, { addGenerationPrompt: false });
  assert.deepEqual(Object.keys(chatTemplates), ["qwen2.5", "chatml", "plain"]);
});

test("qwen2.5 adds the default system prompt and the assistant opener", () => {
  const out = applyChatTemplate([{ role: "user", content: "What is 2+2?" }], {
    template: "qwen2.5",
    addGenerationPrompt: true,
  });
  assert.equal(out, QWEN_SYS + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n");
  const noGen = applyChatTemplate([{ role: "user", content: "hi" }], { template: "qwen2.5" });
  assert.equal(noGen, QWEN_SYS + "<|im_start|>user\nhi<|im_end|>\n");
});

test("qwen2.5 uses a given system message and renders a multi-turn chat", () => {
  const out = applyChatTemplate(
    [
      { role: "system", content: "Be brief." },
      { role: "user", content: "1+1?" },
      { role: "assistant", content: "2" },
      { role: "user", content: "and 2+2?" },
    ],
    { template: "qwen2.5", addGenerationPrompt: true },
  );
  assert.equal(
    out,
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n2<|im_end|>\n<|im_start|>user\nand 2+2?<|im_end|>\n<|im_start|>assistant\n",
  );
});

test("qwen2.5 renders tools and tool calls as the Qwen template does", () => {
  const tools = [{ type: "function", function: { name: "add", parameters: { a: "int" } } }];
  const out = applyChatTemplate(
    [
      { role: "user", content: "add 1 2" },
      { role: "assistant", content: "", tool_calls: [{ function: { name: "add", arguments: { a: 1, b: 2 } } }] },
      { role: "tool", content: "3" },
    ],
    { template: "qwen2.5", tools },
  );
  assert.equal(
    out,
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
      "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
      '{"type": "function", "function": {"name": "add", "parameters": {"a": "int"}}}' +
      "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n" +
      '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' +
      "<|im_start|>user\nadd 1 2<|im_end|>\n" +
      '<|im_start|>assistant\n<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call><|im_end|>\n' +
      "<|im_start|>user\n<tool_response>\n3\n</tool_response><|im_end|>\n",
  );
});

test("plain template: prompt text as is, assistant text followed by the tokenizer's EOS", () => {
  const tok = CharTokenizer.fromAlphabet("0123456789+= \n", { chatTemplate: chatTemplates.plain });
  const msgs = [
    { role: "user", content: "2+3=" },
    { role: "assistant", content: "5" },
  ];
  assert.equal(applyChatTemplate(msgs, { tokenizer: tok }), "2+3=5<eos>");
  assert.equal(
    applyChatTemplate([{ role: "system", content: "1" }, msgs[0]], { tokenizer: tok, addGenerationPrompt: true }),
    "1\n2+3=",
  );
  assert.deepEqual(encodeChat(tok, msgs), [...tok.encode("2+3=5"), tok.eosTokenId]);
  assert.equal(applyChatTemplate(msgs, { template: "plain" }), "2+3=5", "no tokenizer: empty eos_token");
});

test("bos/eos tokens and extra variables reach the template; chatml has no default system prompt", () => {
  const tok = CharTokenizer.fromAlphabet("ab");
  assert.equal(
    applyChatTemplate([{ role: "user", content: "a" }], {
      tokenizer: tok,
      template: "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}{% if flag %}!{% endif %}",
      context: { flag: true },
    }),
    "<bos>a<eos>!",
  );
  assert.equal(
    applyChatTemplate([{ role: "user", content: "hi" }], { template: "chatml", addGenerationPrompt: true }),
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
  );
});

test("encodeChat with an HF tokenizer maps ChatML markers to their special ids", () => {
  const tok = loadTokenizer(path.join(__dirname, "fixtures", "tiny-bpe"));
  const ids = encodeChat(tok, [{ role: "user", content: "hi" }], { template: "chatml", addGenerationPrompt: true });
  // <|im_start|>=270 "user"=84 82 68 81 "\n"=198 "hi"=71 72 <|im_end|>=271 "\n"=198 <|im_start|>=270 "assistant" "\n"
  assert.deepEqual(ids.slice(0, 11), [270, 84, 82, 68, 81, 198, 71, 72, 271, 198, 270]);
  assert.equal(tok.decode(ids), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
});

test("clear errors for a missing template, an unknown name and bad messages", () => {
  const tok = CharTokenizer.fromAlphabet("ab");
  assert.throws(
    () => applyChatTemplate([{ role: "user", content: "a" }], { tokenizer: tok }),
    /no chat template .* Pass \{template: "plain"\}/,
  );
  assert.throws(
    () => applyChatTemplate([{ role: "user", content: "a" }], { template: "qwen25" }),
    /unknown chat template "qwen25" \(known: qwen2\.5, chatml, plain\)\. Did you mean "qwen2\.5"\?/,
  );
  assert.throws(
    () => applyChatTemplate("hi" as never),
    /messages must be an array of \{role: string, content: string\}/,
  );
  assert.throws(() => applyChatTemplate([{ role: "user", content: "a" }], { template: "{% if %}" }), /does not parse/);
  assert.throws(
    () => applyChatTemplate([{ role: "user", content: "a" }], { template: "{{ raise_exception('only assistant') }}" }),
    /rendering failed \(only assistant\)/,
  );
});
