"use strict";
// Jupyter wire protocol v5.3: decode, sign and build messages.
// tslab 1.0.22 keeps its ZmqMessage class private, so the kernel speaks the (documented, stable) wire format itself:
// https://jupyter-client.readthedocs.io/en/stable/messaging.html#the-wire-protocol
const { createHmac, randomUUID, timingSafeEqual } = require("node:crypto");

const DELIM = Buffer.from("<IDS|MSG>");
const PROTOCOL_VERSION = "5.3";

/**
 * Parse the frames of one ZeroMQ message and check its HMAC.
 * @param {string} key the connection file's key ("" disables signing)
 * @param {Buffer[]} frames
 * @returns {{identity: Buffer[], header: any, parent_header: any, metadata: any, content: any, buffers: Buffer[]}}
 */
function decode(key, frames) {
  const at = frames.findIndex((f) => f.equals(DELIM));
  if (at < 0) throw new Error("wire.decode: message has no <IDS|MSG> delimiter");
  const [signature, header, parent, metadata, content, ...buffers] = frames.slice(at + 1);
  if (!content)
    throw new Error(`wire.decode: message has ${frames.length - at - 1} frames after the delimiter (expected >= 5)`);
  if (key) {
    const want = sign(key, [header, parent, metadata, content]);
    const got = Buffer.from(signature.toString(), "utf8");
    if (got.length !== want.length || !timingSafeEqual(got, Buffer.from(want, "utf8")))
      throw new Error("wire.decode: invalid HMAC signature (is the connection file's key right?)");
  }
  return {
    identity: frames.slice(0, at),
    header: JSON.parse(header.toString()),
    parent_header: JSON.parse(parent.toString()),
    metadata: JSON.parse(metadata.toString()),
    content: JSON.parse(content.toString()),
    buffers,
  };
}

function sign(key, parts) {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/**
 * Build a message answering (or caused by) `parent`.
 * @param {{header: any, identity: Buffer[]}} parent
 * @param {string} msgType
 * @param {object} content
 * @param {object} [metadata]
 */
function reply(parent, msgType, content, metadata = {}) {
  return {
    identity: parent.identity,
    header: {
      msg_id: randomUUID(),
      username: parent.header.username ?? "cellrl",
      session: parent.header.session,
      date: new Date().toISOString(),
      msg_type: msgType,
      version: PROTOCOL_VERSION,
    },
    parent_header: parent.header,
    metadata,
    content,
  };
}

/**
 * Serialize and sign a message into ZeroMQ frames. IOPub messages get a topic instead of the requester's identity.
 * @param {string} key
 * @param {ReturnType<typeof reply>} msg
 * @param {{iopub?: boolean}} [options]
 */
function encode(key, msg, options = {}) {
  const body = [msg.header, msg.parent_header, msg.metadata, msg.content].map((x) => Buffer.from(JSON.stringify(x)));
  const idents = options.iopub ? [Buffer.from(`kernel.cellrl.${msg.header.msg_type}`)] : msg.identity;
  return [...idents, DELIM, Buffer.from(key ? sign(key, body) : ""), ...body];
}

module.exports = { decode, encode, reply, PROTOCOL_VERSION };
