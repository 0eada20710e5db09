// Chat templates with transformers' apply_chat_template semantics, rendered by @huggingface/jinja: the template sees
// `messages`, `add_generation_prompt`, `bos_token`, `eos_token`, `pad_token`, `tools` and any extra variables
// (e.g. `enable_thinking`). The rendered text is tokenized without adding special tokens, as transformers does.
import { Template } from "@huggingface/jinja";
import { describe, fail } from "../core/errors.js";
import { didYouMean } from "../core/checks.js";
import type { Tokenizer } from "./tokenizer-types.js";

/** One chat message; extra fields (tool_calls, name, ...) reach the template unchanged. */
export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

/** Options of applyChatTemplate. */
export interface ApplyChatTemplateOptions {
  /**
   * Template text, or a name in `chatTemplates` ("qwen2.5", "chatml", "plain"). Defaults to the tokenizer's chat
   * template.
   */
  template?: string;
  /** Supplies bos/eos/pad token texts and the default template. Defaults to none. */
  tokenizer?: Tokenizer;
  /** End with the opening of an assistant turn so the model continues as the assistant. Defaults to false. */
  addGenerationPrompt?: boolean;
  /** Tool (function) schemas for templates that support them. Defaults to none. */
  tools?: unknown[];
  /** More template variables, e.g. {enable_thinking: false}. Defaults to {}. */
  context?: Record<string, unknown>;
}

/** Defaults of applyChatTemplate. */
export const defaults = { addGenerationPrompt: false };

// Qwen2.5-Instruct's tokenizer_config.json "chat_template", verbatim (ChatML with a default system prompt and tools).
const QWEN25 = String.raw`{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
`;

// ChatML without a default system prompt (the format of many small instruct models, e.g. SmolLM2-Instruct).
const CHATML = String.raw`{%- for message in messages %}
    {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}`;

// No markup, for char-level task models: system and user text are the prompt, the assistant text plus EOS is the
// completion, so "2+3=" -> "5<eos>" reads exactly as the task wrote it.
const PLAIN = String.raw`{%- for message in messages %}
    {%- if message.role == 'assistant' %}
        {{- message.content + (eos_token if eos_token else '') }}
    {%- elif message.role == 'system' %}
        {{- message.content + '\n' }}
    {%- else %}
        {{- message.content }}
    {%- endif %}
{%- endfor %}`;

/**
 * Built-in chat templates by name: "qwen2.5" (Qwen2.5-Instruct, verbatim), "chatml" (no default system), "plain" (no
 * markup).
 * @example CharTokenizer.fromAlphabet(chars, {chatTemplate: "plain"}); console.log(chatTemplates["qwen2.5"])
 */
export const chatTemplates: Record<string, string> = { "qwen2.5": QWEN25, chatml: CHATML, plain: PLAIN };

const cache = new Map<string, Template>();

function tokenText(tok: Tokenizer | undefined, id: number | undefined): string | undefined {
  return tok && id !== undefined && tok.tokenToString ? tok.tokenToString(id) : undefined;
}

/**
 * Render chat messages to the prompt text a chat model expects (transformers' apply_chat_template with tokenize=False).
 * @example applyChatTemplate([{role: "user", content: "2+2?"}], {template: "qwen2.5", addGenerationPrompt: true})
 */
export function applyChatTemplate(messages: ChatMessage[], options: ApplyChatTemplateOptions = {}): string {
  const { tokenizer, addGenerationPrompt = defaults.addGenerationPrompt, tools, context = {} } = options;
  if (
    !Array.isArray(messages) ||
    messages.some((m) => !m || typeof m.role !== "string" || typeof m.content !== "string")
  )
    fail(
      "invalid_input",
      "model.applyChatTemplate: messages must be an array of {role: string, content: string} " +
        `(got ${describe(messages)}). Wrap a prompt as [{role: "user", content: prompt}].`,
      { got: messages },
      applyChatTemplate,
    );
  let text = options.template ?? (tokenizer as { chatTemplate?: string | null } | undefined)?.chatTemplate ?? undefined;
  if (text === undefined || text === null)
    fail(
      "invalid_option",
      "model.applyChatTemplate: no chat template (the tokenizer has none and options.template is not set). " +
        `Pass {template: "plain"}, "chatml", "qwen2.5" or a Jinja template string.`,
      { path: ["template"] },
      applyChatTemplate,
    );
  if (!text.includes("{")) {
    const named = chatTemplates[text];
    if (named === undefined) {
      const known = Object.keys(chatTemplates);
      const hint = didYouMean(text, known, " Pass the Jinja text itself for your own template.");
      fail(
        "unknown_name",
        `model.applyChatTemplate: unknown chat template "${text}" (known: ${known.join(", ")}).${hint}`,
        { got: text, expected: Object.keys(chatTemplates) },
        applyChatTemplate,
      );
    }
    text = named;
  }
  let tpl = cache.get(text);
  if (!tpl) {
    try {
      tpl = new Template(text);
    } catch (e) {
      return fail(
        "invalid_option",
        `model.applyChatTemplate: the chat template does not parse (${(e as Error).message}). Check the Jinja syntax.`,
        { cause: e },
        applyChatTemplate,
      );
    }
    cache.set(text, tpl);
  }
  const vars: Record<string, unknown> = {
    messages,
    add_generation_prompt: addGenerationPrompt,
    bos_token: tokenText(tokenizer, tokenizer?.bosTokenId) ?? "",
    eos_token: tokenText(tokenizer, tokenizer?.eosTokenId) ?? "",
    pad_token: tokenText(tokenizer, tokenizer?.padTokenId) ?? "",
    ...(tools ? { tools } : {}),
    ...context,
  };
  try {
    return tpl.render(vars);
  } catch (e) {
    return fail(
      "invalid_input",
      `model.applyChatTemplate: rendering failed (${(e as Error).message}). ` +
        "Check the messages against what the template expects.",
      { cause: e },
      applyChatTemplate,
    );
  }
}

/**
 * Render and tokenize chat messages (special-token text in the template becomes its token; no extra BOS is added).
 * @example const ids = encodeChat(tok, [{role: "user", content: "hi"}], {addGenerationPrompt: true})
 */
export function encodeChat(
  tokenizer: Tokenizer,
  messages: ChatMessage[],
  options: Omit<ApplyChatTemplateOptions, "tokenizer"> = {},
): number[] {
  return tokenizer.encode(applyChatTemplate(messages, { ...options, tokenizer }), { addSpecialTokens: false });
}

/** Options of chatPrompts. */
export interface ChatPromptsOptions {
  /** Supplies the default chat template (tokenizer.chatTemplate) and the special-token texts. Defaults to none. */
  tokenizer?: Tokenizer;
  /**
   * A template name ("qwen2.5", "chatml", "plain") or Jinja text to use instead of the tokenizer's. Defaults to the
   * tokenizer's.
   */
  template?: string | null;
}

/**
 * The prompt texts a policy samples from for chat prompts (verl main_generation's step): each chat rendered with the
 * chat template (options.template, else the tokenizer's) and the generation prompt; with no template at all, the
 * messages' contents joined by a blank line. `format` says which was used (recorded with generated responses).
 * @example chatPrompts([[{role: "user", content: "2+3="}]], {tokenizer: tok}).texts // ["2+3="] with no template
 */
export function chatPrompts(
  chats: readonly (readonly { role: string; content: string }[])[],
  options: ChatPromptsOptions = {},
): { texts: string[]; format: string } {
  const { tokenizer } = options;
  const own = (tokenizer as { chatTemplate?: string | null } | undefined)?.chatTemplate ?? null;
  const template = options.template ?? own;
  chats.forEach((c, i) => {
    if (
      !Array.isArray(c) ||
      c.length === 0 ||
      c.some((m) => !m || typeof m.role !== "string" || typeof m.content !== "string")
    )
      fail(
        "invalid_input",
        `model.chatPrompts: prompt ${i} is not a chat (got ${describe(c)}; expected [{role, content}, ...]). ` +
          "Use verl records (data.record()).",
        { path: [i] },
        chatPrompts,
      );
  });
  if (!template) return { texts: chats.map((c) => c.map((m) => m.content).join("\n\n")), format: "contents joined" };
  const format = options.template
    ? `chat template ${options.template.includes("{") ? "(custom)" : options.template}`
    : "tokenizer chat template";
  return {
    texts: chats.map((c) => applyChatTemplate(c as ChatMessage[], { template, tokenizer, addGenerationPrompt: true })),
    format,
  };
}
