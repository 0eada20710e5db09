import { fail } from "../core/errors.js";
import { escapeHtml } from "../kernel/mime.js";
import {
  colorOf,
  css,
  diverging,
  resolveScale,
  scales,
  sequential,
  textOn,
  PURPLE,
  type ColorScale,
  type RGB,
  type ScaleName,
} from "./color.js";
import { num, visibleToken, visibleTokenText } from "./format.js";
import { View } from "./view.js";

/** Per-token data to show: the token strings and any number of aligned value series. */
export interface TokenSeries {
  /** Token strings as the tokenizer decodes them, [T]. */
  tokens: readonly string[];
  /** Named per-token values, each [T] (logp, entropy, adv, weight, kl, ...). */
  values?: Record<string, ArrayLike<number>>;
  /** 1 for tokens that belong to the response (coloured), 0 for prompt/padding (grey). Defaults to all 1. */
  mask?: ArrayLike<number>;
  /** Optional top-k alternatives per position for the tooltip: [T][k] of {token, logp}. */
  topk?: readonly (readonly { token: string; logp: number }[])[];
}

/**
 * How a series maps to colour (docs/viz.md#colour-and-scale-contract): diverging = direction (blue < 0 < red),
 * sequential = magnitude (white → purple), surprisal = −value on the magnitude ramp; or a pinned scale by name
 * ("surprisal", "advantage", "reward01", ...) or a shared `{kind, domain}` scale.
 */
export type TokenScale =
  | { type: "diverging"; max?: number }
  | { type: "sequential"; lo?: number; hi?: number }
  | { type: "surprisal"; max?: number }
  | ScaleName
  | ColorScale;

/** Options of tokenView. */
export interface TokenViewOptions {
  /** Series that colours the token background. Defaults to the first series, or none. */
  color?: string;
  /**
   * Colour scale. Defaults by name: "logp" → surprisal (−logp: white = certain → purple at 5 nats, pinned so views
   * compare), "entropy" / KL → sequential (white → purple), 0/1 flags → 0..1, others → diverging (blue < 0 < red).
   */
  scale?: TokenScale;
  /** Series drawn as a 3px bottom border (e.g. "entropy"). Defaults to none. */
  underline?: string;
  /** Series drawn as a 3px top border (e.g. "kl"). Defaults to none. */
  overline?: string;
  /** Scale of the underline series (share one across views to compare them). Defaults by name, as `scale`. */
  underlineScale?: TokenScale;
  /** Scale of the overline series. Defaults by name, as `scale`. */
  overlineScale?: TokenScale;
  /** Heading above the tokens. */
  title?: string;
  /** Show the colour legend. Defaults to true. */
  legend?: boolean;
}

/** Defaults of tokenView. */
export const tokenViewDefaults = { legend: true };

function defaultScale(name: string): TokenScale {
  if (/^(logp|logprob|oldLogp|refLogp|teacherLogp|studentLogp)$/.test(name))
    return { type: "surprisal", max: scales.surprisal.domain[1] };
  // 0/1 flags (clipped, correct, truncated): white for 0, full colour for 1, whatever the row holds.
  if (/^(clip|is[A-Z_]|flag)/.test(name)) return { type: "sequential", lo: 0, hi: 1 };
  if (/entropy|^kl|^k[123]$/i.test(name)) return { type: "sequential" };
  return { type: "diverging" };
}

function finiteMax(xs: number[]): number {
  let m = 0;
  for (const x of xs) if (Number.isFinite(x) && x > m) m = x;
  return m;
}

interface Painter {
  color(v: number): RGB;
  legend: string;
}

function isContractScale(scale: TokenScale): scale is ScaleName | ColorScale {
  return typeof scale === "string" || "kind" in scale;
}

function painter(name: string, vals: number[], scale: TokenScale): Painter {
  if (isContractScale(scale)) {
    const s = resolveScale(scale, vals, name);
    const [lo, hi] = s.domain;
    const legend =
      s.kind === "signed"
        ? `${name}: blue = −${num(hi)} (down) … white = 0 … red = +${num(hi)} (up)`
        : `${name}: white = ${num(lo)} … ${s.kind === "score" ? "green" : s.kind === "count" ? "dark" : "purple"} = ${num(hi)}`;
    return { color: (v) => colorOf(s, v), legend };
  }
  if (scale.type === "surprisal") {
    const max = scale.max ?? Math.max(1e-6, finiteMax(vals.map((v) => -v)));
    return {
      color: (v) => sequential(-v, 0, max, PURPLE),
      legend: `${name}: white = 0 (certain) … purple = −${num(max)} or less (surprising)`,
    };
  }
  if (scale.type === "sequential") {
    const lo = scale.lo ?? 0;
    const hi = scale.hi ?? Math.max(lo + 1e-6, finiteMax(vals));
    const legend = `${name}: white = ${num(lo)} … purple = ${num(hi)}`;
    return { color: (v) => sequential(v, lo, hi, PURPLE), legend };
  }
  const max = scale.max ?? Math.max(1e-6, finiteMax(vals.map(Math.abs)));
  const legend = `${name}: blue = −${num(max)} (down) … white = 0 … red = +${num(max)} (up)`;
  return { color: (v) => diverging(v, max), legend };
}

function gradientBar(p: Painter, scale: TokenScale, vals: number[]): string {
  const n = 12;
  let lo: number, hi: number;
  if (isContractScale(scale)) {
    [lo, hi] = resolveScale(scale, vals).domain;
  } else if (scale.type === "surprisal") {
    hi = 0;
    lo = -(scale.max ?? Math.max(1e-6, finiteMax(vals.map((v) => -v))));
  } else if (scale.type === "sequential") {
    lo = scale.lo ?? 0;
    hi = scale.hi ?? Math.max(lo + 1e-6, finiteMax(vals));
  } else {
    hi = scale.max ?? Math.max(1e-6, finiteMax(vals.map(Math.abs)));
    lo = -hi;
  }
  const cells = Array.from({ length: n }, (_, i) => {
    const v = lo + ((hi - lo) * i) / (n - 1);
    return `<span style="display:inline-block;width:14px;height:10px;background-color:${css(p.color(v))}"></span>`;
  }).join("");
  return (
    `<div style="font-size:80%;color:rgb(90,90,90);margin-top:4px">${num(lo)} ${cells} ${num(hi)} ` +
    `&nbsp; ${escapeHtml(p.legend)}</div>`
  );
}

/**
 * A completion as coloured tokens: background by one per-token series, optional under/over borders by two more,
 * a hover title with every value (and top-k alternatives), visible whitespace, and a legend. Pure HTML + inline CSS.
 * @example viz.tokenView({tokens, values: {logp, entropy, adv}}, {color: "adv", underline: "entropy"})
 */
export function tokenView(series: TokenSeries, options: TokenViewOptions = {}): View {
  const { tokens, values = {}, mask, topk } = series;
  if (!Array.isArray(tokens))
    fail("invalid_input", "viz.tokenView: tokens must be an array of strings.", { path: ["tokens"] }, tokenView);
  const T = tokens.length;
  for (const [k, v] of Object.entries(values))
    if (v.length !== T)
      fail(
        "shape_mismatch",
        `viz.tokenView: values.${k} has ${v.length} entries but there are ${T} tokens; align them (e.g. drop ` +
          `the prompt part).`,
        {
          path: ["values", k],
        },
        tokenView,
      );
  if (mask && mask.length !== T)
    fail(
      "shape_mismatch",
      `viz.tokenView: mask has ${mask.length} entries but there are ${T} tokens.`,
      { path: ["mask"] },
      tokenView,
    );
  const names = Object.keys(values);
  const colorName = options.color ?? names[0];
  for (const [opt, name] of [
    ["color", colorName],
    ["underline", options.underline],
    ["overline", options.overline],
  ] as const)
    if (name !== undefined && !(name in values))
      fail(
        "invalid_option",
        `viz.tokenView: ${opt} ${JSON.stringify(name)} is not a series (known: ${names.join(", ") || "none"}).`,
        {
          path: ["options", opt],
        },
        tokenView,
      );
  const inMask = (i: number) => !mask || mask[i] !== 0;
  const arr = (name: string) => Array.from(values[name], Number);
  const masked = (xs: number[]) => xs.filter((_, i) => inMask(i));
  const bgScale = colorName ? (options.scale ?? defaultScale(colorName)) : null;
  const bg = colorName && bgScale ? painter(colorName, masked(arr(colorName)), bgScale) : null;
  const under = options.underline
    ? painter(
        options.underline,
        masked(arr(options.underline)),
        options.underlineScale ?? defaultScale(options.underline),
      )
    : null;
  const over = options.overline
    ? painter(options.overline, masked(arr(options.overline)), options.overlineScale ?? defaultScale(options.overline))
    : null;
  const cols = Object.fromEntries(names.map((n) => [n, arr(n)]));

  const spans: string[] = [];
  for (let i = 0; i < T; i++) {
    const tok = tokens[i];
    const on = inMask(i);
    const c: RGB = on && bg && colorName ? bg.color(cols[colorName][i]) : on ? [255, 255, 255] : [236, 236, 236];
    const fg = on ? textOn(c) : ([130, 130, 130] as RGB);
    let title = `#${i} ${JSON.stringify(tok)}`;
    for (const n of names) title += ` | ${n}=${num(cols[n][i], 4)}`;
    if (topk?.[i]?.length)
      title += " | top-k: " + topk[i].map((t) => `${JSON.stringify(t.token)}:${num(Math.exp(t.logp), 3)}`).join(" ");
    const borders =
      (under && on
        ? `border-bottom:3px solid ${css(under.color(cols[options.underline!][i]))};`
        : "border-bottom:3px solid transparent;") +
      (over && on
        ? `border-top:3px solid ${css(over.color(cols[options.overline!][i]))};`
        : "border-top:3px solid transparent;");
    spans.push(
      `<span data-cellrl-tok="${i}" title="${escapeHtml(title)}" ` +
        `style="display:inline-block;white-space:pre;padding:0 1px;margin:0 0 2px 0;` +
        `border-left:1px solid rgb(238,238,238);${borders}background-color:${css(c)};` +
        `color:${css(fg)}">${visibleToken(tok) || "&nbsp;"}</span>` +
        (/\n$/.test(tok) ? "<br>" : ""),
    );
  }
  const heading = options.title
    ? `<div style="font-weight:bold;margin-bottom:4px">${escapeHtml(options.title)}</div>`
    : "";
  const legends =
    (options.legend ?? tokenViewDefaults.legend)
      ? [
          bg && bgScale && colorName ? gradientBar(bg, bgScale, masked(cols[colorName])) : "",
          under ? `<div style="font-size:80%;color:rgb(90,90,90)">underline: ${escapeHtml(under.legend)}</div>` : "",
          over ? `<div style="font-size:80%;color:rgb(90,90,90)">overline: ${escapeHtml(over.legend)}</div>` : "",
        ].join("")
      : "";
  const html =
    `<div class="cellrl-token-view tex2jax_ignore" data-cellrl-tokens="${T}" ` +
    `style="font-family:monospace;font-size:13px;line-height:1.9;color:rgb(0,0,0);` +
    `background-color:rgb(255,255,255);padding:4px">` +
    `${heading}<div>${spans.join("")}</div>${legends}</div>`;
  const textRows = tokens.map(
    (tok, i) =>
      `${String(i).padStart(4)} ${visibleTokenText(tok).padEnd(12)} ` +
      `${names.map((n) => `${n}=${num(cols[n][i], 4)}`).join(" ")}${inMask(i) ? "" : " (masked)"}`,
  );
  const text =
    `${options.title ? options.title + "\n" : ""}token view: ${T} ` +
    `tokens${colorName ? `, colour = ${colorName}` : ""}\n${textRows.join("\n")}`;
  return new View(html, text);
}
