"use strict";
// In-memory input/output history of this kernel session, answering history_request like IPython does
// (tail / range / search with glob patterns). Entries are [session, line, input] or [session, line, [input, output]]
// where line is the execution_count and output the text/plain of the execute_result (null when there was none).

/** Session number of the running kernel (history is not persisted across kernel restarts). */
const SESSION = 1;

function globToRegExp(glob) {
  // IPython searches with SQLite GLOB: * any run, ? one char, [...] a class; case-sensitive, whole-string.
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re +=
          "[" +
          glob
            .slice(i + 1, end)
            .replace(/^!/, "^")
            .replace(/\\/g, "\\\\") +
          "]";
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

class History {
  constructor() {
    /** @type {{line: number, input: string, output: string | null}[]} */
    this.entries = [];
  }

  /** Record one executed cell. */
  add(line, input, output = null) {
    this.entries.push({ line, input, output });
  }

  /** Attach the text/plain result to an already recorded line. */
  setOutput(line, output) {
    const e = this.entries.find((x) => x.line === line);
    if (e) e.output = output;
  }

  format(list, output) {
    return list.map((e) => (output ? [SESSION, e.line, [e.input, e.output]] : [SESSION, e.line, e.input]));
  }

  /**
   * Answer the content of a history_request.
   * @param {{hist_access_type?: string, output?: boolean, n?: number, session?: number, start?: number, stop?: number, pattern?: string, unique?: boolean}} req
   * @returns {[number, number, unknown][]}
   */
  query(req) {
    const output = !!req.output;
    const type = req.hist_access_type ?? "tail";
    if (type === "tail") {
      const n = req.n ?? 10;
      return this.format(n > 0 ? this.entries.slice(-n) : [], output);
    }
    if (type === "range") {
      // IPython: session 0 (or missing) is the current session, negative counts back; we only know the current one.
      const s = req.session ?? 0;
      if (s !== 0 && s !== SESSION) return [];
      const start = req.start ?? 1;
      const stop = req.stop ?? null;
      return this.format(
        this.entries.filter((e) => e.line >= start && (stop === null || stop <= 0 || e.line < stop)),
        output,
      );
    }
    if (type === "search") {
      const re = globToRegExp(req.pattern ?? "*");
      let hits = this.entries.filter((e) => re.test(e.input));
      if (req.unique) {
        const seen = new Set();
        hits = hits
          .reverse()
          .filter((e) => !seen.has(e.input) && seen.add(e.input))
          .reverse();
      }
      if (req.n && req.n > 0) hits = hits.slice(-req.n);
      return this.format(hits, output);
    }
    return [];
  }
}

module.exports = { History, SESSION, globToRegExp };
