// The room websocket: reconnects by itself with back-off and resumes after the last `seq` seen,
// so a dropped connection loses nothing. Frames go to `onFrame`; `send` returns a promise of
// the server's `ack` (or rejects with its `error`). `fresh()` returning true makes the next
// reconnect ask for a new room.state instead of resuming.

import { gettext } from "./i18n.js";

export class RoomSocket {
  constructor(slug, { onFrame, onStatus, fresh = () => false }) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/rooms/${slug}/`;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.fresh = fresh;
    this.lastSeq = null;
    this.pending = new Map();
    this.nextRef = 1;
    this.delay = 500;
    this.closed = false;
    this.open();
  }

  open() {
    if (this.lastSeq !== null && this.fresh()) this.lastSeq = null;
    const url = this.lastSeq === null ? this.url : `${this.url}?after=${this.lastSeq}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.delay = 500;
      this.onStatus("");
    });
    ws.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    ws.addEventListener("close", () => {
      const message = gettext("Connection lost; try again.");
      for (const { reject } of this.pending.values()) reject({ code: "disconnected", message });
      this.pending.clear();
      if (this.closed) return;
      this.onStatus(gettext("Reconnecting…"));
      setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 8000);
    });
  }

  receive(frame) {
    if (typeof frame.seq === "number") {
      if (this.lastSeq !== null && frame.type !== "room.state" && frame.seq <= this.lastSeq) return;
      this.lastSeq = frame.seq;
    }
    if ((frame.type === "ack" || frame.type === "error") && this.pending.has(frame.ref)) {
      const { resolve, reject } = this.pending.get(frame.ref);
      this.pending.delete(frame.ref);
      if (frame.type === "ack") resolve(frame);
      else reject(frame);
      return;
    }
    this.onFrame(frame);
  }

  send(type, fields = {}) {
    const ref = `r${this.nextRef++}`;
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) {
        reject({ code: "disconnected", message: gettext("Not connected; try again in a moment.") });
        return;
      }
      this.pending.set(ref, { resolve, reject });
      this.ws.send(JSON.stringify({ type, ref, ...fields }));
    });
  }

  // Fire and forget (hearts): no ref, no ack.
  cast(type, fields = {}) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type, ...fields }));
  }
}
