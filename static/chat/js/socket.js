// The chat socket: reconnects with backoff, queues frames while closed, and dispatches frames
// by their "event". Close codes 4401 (not logged in) and 4503 (chat switched off) are final.

const FINAL_CODES = new Set([4401, 4503]);

export class ChatSocket {
  constructor(path) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = `${scheme}://${location.host}${path}`;
    this.handlers = new Map();
    this.queue = [];
    this.attempt = 0;
    this.closedForGood = false;
    this.ws = null;
  }

  on(event, handler) {
    this.handlers.set(event, handler);
    return this;
  }

  emit(event, data) {
    const handler = this.handlers.get(event);
    if (handler) handler(data);
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.emit("open");
      const pending = this.queue.splice(0);
      pending.forEach((frame) => ws.send(JSON.stringify(frame)));
    });
    ws.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame && typeof frame.event === "string") this.emit(frame.event, frame);
    });
    ws.addEventListener("close", (close) => {
      this.emit("close", close);
      if (FINAL_CODES.has(close.code)) {
        this.closedForGood = true;
        this.emit("final", close);
        return;
      }
      // 0.5 s, 1 s, 2 s ... up to 15 s, with jitter so that a restarted server is not stormed.
      const delay = Math.min(15000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    });
  }

  // Frames sent while the socket is down wait for the next connection. Callers that must not
  // send twice (join) pass queue=false and resend on "open" themselves.
  send(frame, { queue = true } = {}) {
    if (this.open) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    if (queue) this.queue.push(frame);
    return false;
  }
}
