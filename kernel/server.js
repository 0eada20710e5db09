"use strict";
// The ZeroMQ side of the kernel: tslab's ZmqServer (socket setup, heartbeat, receive loops) with the message
// handling replaced. Differences from tslab 1.0.22:
// - execute requests run one at a time, each wrapped in busy/idle, with execute_input and an execution_count;
// - after a failed cell, only requests already queued are answered "aborted", and only when stop_on_error is true
//   (tslab dropped every request arriving within 200 ms, even with stop_on_error false, i.e. --allow-errors);
// - history, interrupt_request (control), comm_info (correct reply type), shutdown with exit.
const wire = require("./wire.js");
const tslab = require("./tslab.js");
const { memoryWarning } = require("./memory.js");

class CellrlServer extends tslab.jupyter().ZmqServer {
  /**
   * @param {import("./handler.js").CellrlHandler} handler
   * @param {string} configPath the connection file Jupyter passes
   * @param {{log?: (line: string) => void}} [options]
   */
  constructor(handler, configPath, options = {}) {
    super(handler, configPath);
    this.log = options.log ?? (() => {});
    /** Serializes execute requests. */
    this.execChain = Promise.resolve();
    /** Sequence number of the last execute_request received / the last one to answer "aborted". */
    this.received = 0;
    this.abortThrough = 0;
    this.executing = false;
    /** Execute requests taken off the queue; until when a cell that starts counts as already interrupted. */
    this.started = 0;
    this.interruptNextUntil = 0;
    /** When the last cell ended interrupted (its signal may reach the SIGINT handler only after it ended). */
    this.lastInterruptedAt = 0;
    this.closed = false;
  }

  /**
   * tslab's init, reordered: bind every socket (one at a time, retrying a busy socket or a port still held) and only
   * then start receiving. tslab started its receive loops first; an event on a socket during its asynchronous bind
   * then made zeromq throw "Socket is blocked by a bind or unbind operation" (EBUSY) into the pending receive, which
   * ended that loop for good: the kernel never answered (seen on loaded machines).
   */
  async init() {
    const cinfo = JSON.parse(require("node:fs").readFileSync(this.configPath, "utf8"));
    this.connInfo = cinfo;
    const zmq = require(require.resolve("zeromq", { paths: [tslab.dir] }));
    this.iopub = new zmq.Publisher();
    this.shell = new zmq.Router();
    this.control = new zmq.Router();
    this.stdin = new zmq.Router();
    this.hb = new zmq.Reply();
    for (const [sock, port] of [
      [this.iopub, cinfo.iopub_port],
      [this.shell, cinfo.shell_port],
      [this.control, cinfo.control_port],
      [this.stdin, cinfo.stdin_port],
      [this.hb, cinfo.hb_port],
    ])
      await this.bindWithRetry(sock, port);
    this.receiveLoop(this.shell, (msgs) => this.handleShellMessage(this.shell, ...msgs));
    this.receiveLoop(this.control, (msgs) => this.handleShellMessage(this.control, ...msgs));
    this.receiveLoop(this.hb, (msgs) => this.hb.send(msgs), true);
  }

  /** Bind, retrying EBUSY / EADDRINUSE for up to ~10 s (another kernel starting, a port in TIME_WAIT). */
  async bindWithRetry(sock, port) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.bindSocket(sock, port);
      } catch (e) {
        const code = /** @type {any} */ (e)?.code;
        if ((code !== "EBUSY" && code !== "EADDRINUSE") || attempt >= 40) throw e;
        this.log(`bind of port ${port} failed (${code}), retrying`);
        await new Promise((r) => setTimeout(r, Math.min(500, 25 * attempt)));
      }
    }
  }

  /**
   * Receive messages until the socket closes (handlers are not awaited, as in tslab, unless `wait`: the heartbeat's
   * reply must be sent before the next receive); a failure is logged (the kernel cannot answer on it any more).
   */
  async receiveLoop(sock, each, wait = false) {
    try {
      for await (const msgs of sock) {
        const done = each(msgs);
        if (wait) await done;
      }
    } catch (e) {
      if (!this.closed) this.log(`receive loop stopped: ${e instanceof Error ? e.message : e}`);
    }
  }

  send(sock, parent, msgType, content, metadata) {
    if (this.closed) return;
    sock.send(wire.encode(this.connInfo.key, wire.reply(parent, msgType, content, metadata)));
  }

  publish(parent, msgType, content) {
    if (this.closed) return;
    this.iopub.send(wire.encode(this.connInfo.key, wire.reply(parent, msgType, content), { iopub: true }));
  }

  publishStatus(state, parent) {
    this.publish(parent, "status", { execution_state: state });
  }

  /** Entry point of tslab's receive loops (shell and control); not awaited there, so it must not throw. */
  async handleShellMessage(sock, ...frames) {
    let msg;
    try {
      msg = wire.decode(this.connInfo.key, frames);
    } catch (e) {
      this.log(`dropped a message: ${e instanceof Error ? e.message : e}`);
      return;
    }
    const type = msg.header.msg_type;
    if (type === "execute_request") {
      const seq = ++this.received;
      this.execChain = this.execChain.then(() => this.runExecute(sock, msg, seq));
      return;
    }
    this.publishStatus("busy", msg);
    let shutdown = false;
    try {
      shutdown = this.dispatch(sock, msg);
    } catch (e) {
      this.log(`${type} failed: ${e instanceof Error ? e.stack : e}`);
      const reply = type.endsWith("_request") ? type.replace(/_request$/, "_reply") : null;
      if (reply)
        this.send(sock, msg, reply, { status: "error", ename: "KernelError", evalue: String(e), traceback: [] });
    } finally {
      this.publishStatus("idle", msg);
    }
    if (shutdown) this.shutdown();
  }

  /** Answer one non-execute request; returns true for shutdown. */
  dispatch(sock, msg) {
    const h = this.handler;
    const c = msg.content;
    switch (msg.header.msg_type) {
      case "kernel_info_request":
        this.send(sock, msg, "kernel_info_reply", h.handleKernel());
        return false;
      case "is_complete_request":
        this.send(sock, msg, "is_complete_reply", h.handleIsComplete(c));
        return false;
      case "inspect_request":
        this.send(sock, msg, "inspect_reply", h.handleInspect(c));
        return false;
      case "complete_request":
        this.send(sock, msg, "complete_reply", h.handleComplete(c));
        return false;
      case "history_request":
        this.send(sock, msg, "history_reply", h.handleHistory(c));
        return false;
      case "comm_info_request":
        this.send(sock, msg, "comm_info_reply", { status: "ok", comms: {} });
        return false;
      case "interrupt_request":
        this.interrupt("interrupt_request");
        this.send(sock, msg, "interrupt_reply", { status: "ok" });
        return false;
      case "shutdown_request":
        this.send(sock, msg, "shutdown_reply", { status: "ok", restart: !!c.restart });
        return true;
      case "comm_open":
      case "comm_msg":
      case "comm_close":
        // No comm targets (widgets) yet; ipykernel also ignores comms for unknown targets.
        return false;
      default:
        this.log(`unsupported message type ${msg.header.msg_type}`);
        return false;
    }
  }

  async runExecute(sock, msg, seq) {
    this.publishStatus("busy", msg);
    try {
      this.started = seq;
      if (seq <= this.abortThrough) {
        this.send(sock, msg, "execute_reply", { status: "aborted" }, { status: "aborted" });
        return;
      }
      if (Date.now() < this.interruptNextUntil) {
        // Stop was pressed while this cell waited (e.g. behind a long cell or the start-up prewarm): do not run it.
        this.interruptNextUntil = 0;
        msg.content = { ...msg.content, interruptedBeforeStart: true };
      }
      const io = {
        stream: (name, text) => this.publish(msg, "stream", { name, text }),
        publish: (type, content) => this.publish(msg, type, content),
      };
      this.executing = true;
      let content;
      try {
        content = await this.handler.execute(msg.content, io);
      } catch (e) {
        // A kernel bug, not a cell error: still answer so the front end does not hang.
        this.log(`execute failed: ${e instanceof Error ? e.stack : e}`);
        content = {
          status: "error",
          execution_count: this.handler.execCount,
          ename: "KernelError",
          evalue: String(e),
          traceback: [],
        };
        io.publish("error", { ename: content.ename, evalue: content.evalue, traceback: [] });
      } finally {
        this.executing = false;
      }
      if (content.status === "error" && msg.content.stop_on_error !== false && !msg.content.silent) {
        // Let requests the front end already sent ("Run All") arrive, then abort those queued. This happens before
        // the reply (like ipykernel's flush), so a client that waits for the reply never has its next cell aborted.
        await new Promise((r) => setImmediate(r));
        await new Promise((r) => setImmediate(r));
        this.abortThrough = this.received;
      }
      if (content.ename === "Interrupted") this.lastInterruptedAt = Date.now();
      const low = msg.content.silent ? null : memoryWarning();
      if (low) io.stream("stderr", low);
      this.send(sock, msg, "execute_reply", content, { status: content.status });
    } finally {
      this.publishStatus("idle", msg);
    }
  }

  interrupt(how) {
    if (this.executing) this.handler.interrupt(how);
    // The signal that already stopped the last cell (breakOnSigint or the watchdog got it first): nothing left to do.
    else if (Date.now() - this.lastInterruptedAt < 1000) return;
    // A queued cell is stopped before it starts. With none queued, the request may still be on its way (the kernel
    // was busy, e.g. prewarming, when the user pressed stop), so the next cell within a second is stopped too.
    else this.interruptNextUntil = this.received > this.started ? Infinity : Date.now() + 1000;
  }

  shutdown() {
    if (this.closed) return;
    // Give ZeroMQ a moment to flush the shutdown_reply and the idle status before closing the sockets.
    setTimeout(() => {
      try {
        this.close();
      } catch {
        /* already closing */
      }
      this.closed = true;
      (this.handler.realExit ?? process.exit)(0);
    }, 50);
  }
}

module.exports = { CellrlServer };
