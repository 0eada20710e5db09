import { randomUUID } from "node:crypto";
import { fail } from "../core/errors.js";
import { escapeHtml, textTable } from "../kernel/mime.js";
import { clip, num } from "./format.js";
import { View } from "./view.js";

/** Options of samplesTable. */
export interface SamplesTableOptions {
  /** Columns to show, in order. Defaults to all columns of the first rows. */
  columns?: string[];
  /** Rows per page. Defaults to 20. */
  pageSize?: number;
  /** Characters shown per text cell. Defaults to 120. */
  maxChars?: number;
  title?: string;
}

interface TableLike {
  objects(): Record<string, unknown>[];
}

function cell(v: unknown, maxChars: number): string {
  if (typeof v === "number") return num(v, 4);
  if (v === null || v === undefined) return "";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return clip(s, maxChars);
}

/**
 * A paged, sortable, filterable table of a rollout batch or eval results. The first page is plain HTML (readable
 * without scripts); with scripts, headers sort, the box filters (`reward>0.5`, `data_source=gsm8k` or free text)
 * and pages turn.
 * @example viz.samplesTable(rollout.table, {columns: ["prompt_id", "response", "reward"]})
 */
export function samplesTable(
  rows: readonly Record<string, unknown>[] | TableLike,
  options: SamplesTableOptions = {},
): View {
  const objs = Array.isArray(rows)
    ? rows
    : typeof (rows as TableLike).objects === "function"
      ? (rows as TableLike).objects()
      : null;
  if (!objs)
    fail("invalid_input", "viz.samplesTable: expected an array of row objects or an arquero table.", {}, samplesTable);
  const { pageSize = 20, maxChars = 120 } = options;
  const columns = options.columns ?? [...new Set(objs.slice(0, 50).flatMap((r) => Object.keys(r)))];
  const id = `cellrl-table-${randomUUID()}`;
  const data = objs.map((r) => columns.map((c) => (typeof r[c] === "number" ? r[c] : cell(r[c], maxChars))));
  const th = columns
    .map(
      (c, j) =>
        `<th data-col="${j}" style="cursor:pointer;text-align:left;padding:2px 6px;border-bottom:1px solid ` +
        `rgb(180,180,180)">${escapeHtml(c)}</th>`,
    )
    .join("");
  const tdStyle = "padding:2px 6px;vertical-align:top;font-family:monospace;white-space:pre-wrap";
  const shown = (v: unknown) => (typeof v === "number" ? num(v, 4) : String(v));
  const firstPage = data
    .slice(0, pageSize)
    .map((r) => `<tr>${r.map((v) => `<td style="${tdStyle}">${escapeHtml(shown(v))}</td>`).join("")}</tr>`)
    .join("");
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const html =
    `<div id="${id}" class="cellrl-samples-table tex2jax_ignore" style="font-size:12px;color:rgb(0,0,0)">` +
    (options.title ? `<div style="font-weight:bold">${escapeHtml(options.title)}</div>` : "") +
    `<div><input placeholder="filter: reward>0.5, data_source=gsm8k, or text" ` +
    `style="width:280px;font-size:12px" data-role="filter"> ` +
    `<button data-role="prev">◀</button> <span data-role="info">rows 1–${Math.min(pageSize, data.length)} ` +
    `of ${data.length}</span> <button data-role="next">▶</button></div>` +
    `<table style="border-collapse:collapse"><thead><tr>${th}</tr></thead><tbody>${firstPage}</tbody></table>` +
    `<script type="text/javascript">(function(){var ` +
    `root=document.getElementById(${JSON.stringify(id)});if(!root)return;var all=${json};var ` +
    `rows=all,page=0,size=${pageSize},sortCol=-1,asc=true;` +
    `var tb=root.querySelector("tbody"),info=root.querySelector("[data-role=info]");function esc(s){return ` +
    `String(s).replace(/[&<>"]/g,function(c){return{"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;"}[c]})}` +
    `function fmt(v){return typeof v==="number"?(Number.isInteger(v)?String(v):v.toPrecision(4)):v}` +
    `function draw(){var n=rows.length,pages=Math.max(1,Math.ceil(n/size));page=Math.max(0,Math.min(page,` +
    `pages-1));var s=page*size,h="";for(var i=s;i<Math.min(n,s+size);i++){h+="<tr>"+rows[i].map(function(v)` +
    `{return "<td style=\\"padding:2px 6px;vertical-align:top;font-family:monospace;white-space:pre-wrap\\">` +
    `"+esc(fmt(v))+"</td>"}).join("")+"</tr>"}tb.innerHTML=h;info.textContent="rows ` +
    `"+(n?s+1:0)+"–"+Math.min(n,s+size)+" of "+n+(n!==all.length?" (filtered from "+all.length+")":"")}` +
    `var cols=${JSON.stringify(columns).replace(/</g, "\\u003c")};function filt(q){q=q.trim();if(!q)return ` +
    `all;var m=q.match(/^([\\w\\/.]+)\\s*(>=|<=|>|<|=|!=)\\s*(.+)$/);if(m&&cols.indexOf(m[1])>=0){var ` +
    `j=cols.indexOf(m[1]),op=m[2],val=m[3],nv=Number(val);return all.filter(function(r){var x=r[j];var ` +
    `a=typeof x==="number"&&!isNaN(nv)?x:String(x),b=typeof x==="number"&&!isNaN(nv)?nv:val;return ` +
    `op===">"?a>b:op==="<"?a<b:op===">="?a>=b:op==="<="?a<=b:op==="!="?a!=b:a==b})}q=q.toLowerCase();return ` +
    `all.filter(function(r){return r.some(function(x){return String(x).toLowerCase().indexOf(q)>=0})})}` +
    `root.querySelector("[data-role=filter]").addEventListener("input",function(e){rows=filt(e.target.value);` +
    `page=0;draw()});root.querySelector("[data-role=prev]").onclick=function(){page--;draw()};` +
    `root.querySelector("[data-role=next]").onclick=function(){page++;draw()};` +
    `root.querySelectorAll("th").forEach(function(th){th.onclick=function(){var ` +
    `j=+th.getAttribute("data-col");asc=sortCol===j?!asc:true;sortCol=j;rows=rows.slice().sort(function(a,b)` +
    `{var x=a[j],y=b[j];var c=(typeof x==="number"&&typeof ` +
    `y==="number")?x-y:String(x).localeCompare(String(y));return asc?c:-c});page=0;draw()}})})();</script></div>`;
  const text = `${options.title ? options.title + "\n" : ""}${textTable(
    objs.slice(0, pageSize).map((r) => Object.fromEntries(columns.map((c) => [c, r[c]]))),
    columns,
  )}\n[${objs.length} rows]`;
  return new View(html, text);
}
