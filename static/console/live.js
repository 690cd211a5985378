// The console's live view: new messages, typing, delivery status and takeover state without a
// reload.
// On a conversation's page, new messages join the thread; on the list, a banner offers to
// refresh. Text arrives masked (channels_app/live.py) and is set as text, never as HTML.
// Loaded in the page's head (the admin's Media): it starts once the page is parsed.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  const thread = document.getElementById("thread");
  const list = document.getElementById("result_list");
  if (!thread && !list) return;
  const conversationId = thread ? Number(thread.dataset.conversationId) : null;
  const agents = thread ? JSON.parse(thread.dataset.agents || "{}") : {};
  const labels = thread ? JSON.parse(thread.dataset.statuses || "{}") : {};
  let changed = new Set();
  let retry = 1000;

  function author(message) {
    if (message.sender_kind === "user") return "Person";
    if (message.sender_kind === "human") return `${message.operator_name || "Someone"} (team)`;
    if (message.sender_kind === "agent") return agents[message.agent_type] || "Agent";
    return "System";
  }

  function side(kind) {
    return { user: "person", human: "human", agent: "agent" }[kind] || "system";
  }

  function append(message) {
    if (thread.querySelector(`.thread-message[data-id="${message.id}"]`)) return;
    const item = document.createElement("li");
    const kind = side(message.sender_kind);
    item.className = `thread-message thread-${kind} live flex flex-col gap-1 rounded-default border border-base-200 p-3 ${kind === "person" ? "mr-12" : kind === "system" ? "mx-12 text-sm" : "ml-12"}`;
    item.dataset.id = message.id;
    const meta = document.createElement("div");
    meta.className = "flex flex-row flex-wrap gap-2 text-xs";
    const who = document.createElement("strong");
    who.textContent = author(message);
    const when = document.createElement("span");
    when.textContent = new Date(message.created_at).toLocaleString();
    const status = document.createElement("span");
    status.className = "thread-status";
    status.textContent = `· ${labels[message.delivery_status] || message.delivery_status}`;
    meta.append(who, when, status);
    const text = document.createElement("div");
    text.className = "whitespace-pre-wrap break-words";
    text.textContent = message.text;
    item.append(meta, text);
    thread.append(item);
  }

  let typingTimer = null;

  function typing(who, isTyping) {
    let element = document.getElementById("live-typing");
    if (!element) {
      element = document.createElement("p");
      element.id = "live-typing";
      element.className = "text-sm text-subtle italic";
      element.setAttribute("aria-live", "polite");
      thread.after(element);
    }
    clearTimeout(typingTimer);
    element.textContent = isTyping ? `${who === "agent" ? "The agent" : "The person"} is typing…` : "";
    // A typing signal that is never followed by "stopped" (a closed tab) fades on its own.
    if (isTyping) typingTimer = setTimeout(() => { element.textContent = ""; }, 8000);
  }

  function onFrame(frame) {
    if (thread && frame.conversation_id === conversationId) {
      if (frame.event === "message") {
        append(frame.message);
        typing(null, false);
      }
      if (frame.event === "typing") typing(frame.who, frame.is_typing);
      if (frame.event === "status") {
        const status = thread.querySelector(`.thread-message[data-id="${frame.message_id}"] .thread-status`);
        if (status) status.textContent = `· ${labels[frame.delivery_status] || frame.delivery_status}`;
      }
      if (frame.event === "conversation") {
        const banner = document.getElementById("live-banner");
        banner.textContent = frame.human_operator
          ? `${frame.human_operator} has this conversation now. Reload for the controls.`
          : "The agent has this conversation now. Reload for the controls.";
        banner.hidden = false;
      }
    }
    if (list && (frame.event === "message" || frame.event === "conversation")) {
      changed.add(frame.conversation_id);
      const banner = document.getElementById("live-banner");
      banner.textContent = `New activity in ${changed.size} conversation${changed.size > 1 ? "s" : ""}. Refresh`;
      banner.hidden = false;
    }
  }

  // The newest message this thread shows: a reconnecting socket asks for what came after it,
  // so nothing published while it was down is lost.
  function newest() {
    const ids = Array.from(thread.querySelectorAll(".thread-message[data-id]"), (item) => Number(item.dataset.id));
    return ids.length ? Math.max(...ids) : 0;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const resume = thread ? `?after=${newest()}` : "";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/console/${resume}`);
    socket.addEventListener("open", () => {
      retry = 1000;
      document.body.dataset.live = "on";
    });
    socket.addEventListener("message", (event) => onFrame(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      document.body.dataset.live = "off";
      if (event.code === 4401 || event.code === 4403) return;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  function banner() {
    const existing = document.getElementById("live-banner");
    if (existing) return;
    const element = document.createElement("button");
    element.type = "button";
    element.id = "live-banner";
    element.hidden = true;
    element.className = "fixed bottom-20 right-6 z-50 bg-primary-600 text-white font-semibold px-4 py-2 rounded-default shadow";
    element.addEventListener("click", () => location.reload());
    document.body.append(element);
  }

  banner();
  connect();
});
