// The chat page: sidebar, conversation, composer, and the socket that keeps them live.
import { createApi } from "./api.js";
import { bubble, card, daySeparator, el, initials, notice, when } from "./render.js";
import { ChatSocket } from "./socket.js";

const config = JSON.parse(document.getElementById("chat-config").textContent);
const api = createApi(config.apiBase);
const socket = new ChatSocket(config.wsPath);
const agentNames = new Map(config.agents.map((a) => [a.agent_type, a.name]));

const ACK_TIMEOUT_MS = 15000;
const TYPING_TIMEOUT_MS = 90000;

const $ = (id) => document.getElementById(id);
const ui = {
  app: $("app"),
  list: $("conversation-list"),
  results: $("search-results"),
  bookmarks: $("bookmark-list"),
  search: $("search"),
  tabChats: $("tab-chats"),
  tabBookmarks: $("tab-bookmarks"),
  messages: $("messages"),
  empty: $("empty-state"),
  title: $("conversation-title"),
  agentName: $("agent-name"),
  agentAvatar: $("agent-avatar"),
  agentStatus: $("agent-status"),
  agentDot: $("agent-status-dot"),
  tools: $("conversation-tools"),
  agentSwitch: $("agent-switch"),
  exportMd: $("export-md"),
  exportJson: $("export-json"),
  typing: $("typing"),
  typingLabel: $("typing-label"),
  composer: $("composer"),
  input: $("composer-input"),
  send: $("send"),
  toast: $("toast"),
  newChatDialog: $("new-chat-dialog"),
  deleteDialog: $("delete-dialog"),
};

const state = {
  conversations: [],
  currentId: null,
  entries: new Map(), // key -> {key, at, id, type: "message" | "card" | "notice", data}
  nodes: new Map(),
  hasMore: false,
  lastSeen: new Map(), // conversation id -> highest message id shown
  lastRead: new Map(),
  processing: new Map(), // conversation id -> typing timer
  unread: new Map(),
  pending: new Map(), // client id -> {conversationId, text, timer}
  answered: new Set(), // ids of the person's messages a reply has arrived for
  highlight: null,
};

// ---------------------------------------------------------------- helpers

function toast(text) {
  ui.toast.textContent = text;
  ui.toast.classList.remove("hidden");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => ui.toast.classList.add("hidden"), 5000);
}

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function conversationById(id) {
  return state.conversations.find((c) => c.id === id);
}

function touchConversation(id, changes) {
  const conversation = conversationById(id);
  if (!conversation) return;
  Object.assign(conversation, changes);
  state.conversations.sort((a, b) => (b.last_activity_at > a.last_activity_at ? 1 : -1));
  renderSidebar();
}

// ---------------------------------------------------------------- sidebar

function renderSidebar() {
  ui.list.replaceChildren();
  if (!state.conversations.length) {
    ui.list.append(el("p", "sidebar-empty", "No chats yet. Start one with an agent."));
    return;
  }
  for (const conversation of state.conversations) {
    const item = el("a", "conversation-item");
    item.href = `?c=${conversation.id}`;
    item.dataset.id = conversation.id;
    if (conversation.id === state.currentId) item.classList.add("active");
    item.append(el("span", "avatar avatar-small", initials(conversation.agent_name)));
    const text = el("span", "conversation-text");
    const top = el("span", "conversation-top");
    top.append(el("span", "conversation-title", conversation.title));
    top.append(el("time", "conversation-time", when(conversation.last_activity_at)));
    text.append(top);
    const bottom = el("span", "conversation-bottom");
    const processing = state.processing.has(conversation.id);
    bottom.append(el("span", "conversation-agent", processing ? "typing…" : conversation.agent_name || "Agent"));
    const unread = state.unread.get(conversation.id);
    if (unread) bottom.append(el("span", "unread", String(unread)));
    text.append(bottom);
    item.append(text);
    item.addEventListener("click", (event) => {
      event.preventDefault();
      openConversation(conversation.id);
    });
    ui.list.append(item);
  }
}

function showPanel(which) {
  ui.list.classList.toggle("hidden", which !== "chats");
  ui.results.classList.toggle("hidden", which !== "results");
  ui.bookmarks.classList.toggle("hidden", which !== "bookmarks");
  ui.tabChats.classList.toggle("active", which !== "bookmarks");
  ui.tabBookmarks.classList.toggle("active", which === "bookmarks");
  ui.tabChats.setAttribute("aria-selected", String(which !== "bookmarks"));
  ui.tabBookmarks.setAttribute("aria-selected", String(which === "bookmarks"));
}

function hitList(container, hits, emptyText) {
  container.replaceChildren();
  if (!hits.length) {
    container.append(el("p", "sidebar-empty", emptyText));
    return;
  }
  for (const hit of hits) {
    const item = el("a", "hit");
    item.href = `?c=${hit.conversation_id}`;
    const title = hit.conversation_title || conversationById(hit.conversation_id)?.title || "Chat";
    const top = el("span", "conversation-top");
    top.append(el("span", "conversation-title", title), el("time", "conversation-time", when(hit.created_at)));
    item.append(top, el("span", "hit-snippet", hit.snippet));
    item.addEventListener("click", (event) => {
      event.preventDefault();
      openConversation(hit.conversation_id, { highlight: hit.message_id });
    });
    container.append(item);
  }
}

let searchTimer = null;
ui.search.addEventListener("input", () => {
  clearTimeout(searchTimer);
  const query = ui.search.value.trim();
  if (!query) {
    showPanel("chats");
    return;
  }
  searchTimer = setTimeout(async () => {
    try {
      const { results } = await api.search(query);
      if (ui.search.value.trim() !== query) return;
      hitList(ui.results, results, `Nothing found for “${query}”.`);
      showPanel("results");
    } catch (error) {
      toast(error.message);
    }
  }, 250);
});

ui.tabChats.addEventListener("click", () => {
  ui.search.value = "";
  showPanel("chats");
});
ui.tabBookmarks.addEventListener("click", async () => {
  showPanel("bookmarks");
  try {
    const { results } = await api.bookmarks();
    hitList(ui.bookmarks, results, "No bookmarks yet. Tap ☆ on a message to keep it here.");
  } catch (error) {
    toast(error.message);
  }
});

// ---------------------------------------------------------------- timeline

function messageKey(message) {
  return message.id ? `m:${message.id}` : `c:${message.client_id}`;
}

function putMessage(message) {
  if (message.id && message.client_id) state.entries.delete(`c:${message.client_id}`);
  const key = messageKey(message);
  state.entries.set(key, { key, at: message.created_at, id: message.id || Infinity, type: "message", data: message });
  state.nodes.delete(key);
  if (message.id) {
    const seen = state.lastSeen.get(message.conversation_id) || 0;
    state.lastSeen.set(message.conversation_id, Math.max(seen, message.id));
  }
}

function putCard(approval) {
  const key = `a:${approval.id}`;
  state.entries.set(key, { key, at: approval.created_at, id: 0, type: "card", data: approval });
  state.nodes.delete(key);
}

function putNotice(text) {
  const key = `n:${Date.now()}:${Math.random()}`;
  state.entries.set(key, { key, at: new Date().toISOString(), id: Infinity, type: "notice", data: text });
}

function nodeFor(entry) {
  let node = state.nodes.get(entry.key);
  if (node) return node;
  if (entry.type === "card") node = card(entry.data);
  else if (entry.type === "notice") node = notice(entry.data);
  else node = bubble(entry.data, { onBookmark: toggleBookmark, onRetry: retry });
  state.nodes.set(entry.key, node);
  return node;
}

function atBottom() {
  const m = ui.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}

function renderTimeline({ scroll = "auto" } = {}) {
  const stick = scroll === "bottom" || (scroll === "auto" && atBottom());
  const entries = placeCards(
    [...state.entries.values()].sort((a, b) => (a.at === b.at ? a.id - b.id : a.at < b.at ? -1 : 1)),
  );
  const children = [];
  if (state.hasMore) {
    const more = el("button", "load-more", "Load earlier messages");
    more.type = "button";
    more.addEventListener("click", () => loadEarlier());
    children.push(more);
  }
  let day = null;
  for (const entry of entries) {
    const entryDay = new Date(entry.at).toDateString();
    if (entryDay !== day) {
      children.push(daySeparator(entry.at));
      day = entryDay;
    }
    children.push(nodeFor(entry));
  }
  if (!entries.length && state.currentId) {
    const agent = conversationById(state.currentId)?.agent_name || "your agent";
    children.push(el("p", "timeline-empty", `Say hello to ${agent}. Ask about your numbers, in your own words.`));
  }
  ui.messages.replaceChildren(...children);
  if (stick) ui.messages.scrollTop = ui.messages.scrollHeight;
}

// A turn's cards go right under the system message that told the person to wait. The "reply
// under review" card only stands alone: when that message or an action card says it already,
// it is left out.
function placeCards(sorted) {
  const turnsTold = new Set();
  const turnsWithActions = new Set();
  for (const entry of sorted) {
    if (entry.type === "message" && entry.data.kind === "system" && entry.data.reply_to) turnsTold.add(entry.data.reply_to);
    if (entry.type === "card" && entry.data.action_type !== "held_reply") turnsWithActions.add(entry.data.reply_to);
  }
  const waiting = new Map();
  const placed = [];
  for (const entry of sorted) {
    if (entry.type === "card") {
      const turn = entry.data.reply_to;
      if (entry.data.action_type === "held_reply" && (turnsTold.has(turn) || turnsWithActions.has(turn))) continue;
      if (turnsTold.has(turn)) {
        waiting.set(turn, [...(waiting.get(turn) || []), entry]);
        continue;
      }
    }
    placed.push(entry);
    if (entry.type === "message" && entry.data.kind === "system" && waiting.has(entry.data.reply_to)) {
      placed.push(...waiting.get(entry.data.reply_to));
      waiting.delete(entry.data.reply_to);
    }
  }
  return placed;
}

async function loadEarlier() {
  const oldest = Math.min(...[...state.entries.values()].filter((e) => e.type === "message" && e.data.id).map((e) => e.data.id));
  if (!Number.isFinite(oldest)) return false;
  const id = state.currentId;
  const height = ui.messages.scrollHeight;
  const page = await api.conversation(id, oldest);
  if (state.currentId !== id) return false;
  page.messages.forEach(putMessage);
  state.hasMore = page.has_more;
  renderTimeline({ scroll: "keep" });
  ui.messages.scrollTop = ui.messages.scrollHeight - height;
  return true;
}

// ---------------------------------------------------------------- conversation header

function setHeader() {
  const conversation = conversationById(state.currentId);
  const hasConversation = Boolean(conversation);
  ui.tools.hidden = !hasConversation;
  ui.input.disabled = !hasConversation;
  ui.send.disabled = !hasConversation;
  if (!conversation) {
    ui.title.textContent = "Welcome";
    ui.agentName.textContent = "Pick an agent to start";
    ui.agentAvatar.textContent = "EG";
    setAgentStatus();
    return;
  }
  ui.title.textContent = conversation.title;
  ui.agentName.textContent = conversation.agent_name || "Agent";
  ui.agentAvatar.textContent = initials(conversation.agent_name);
  ui.agentSwitch.value = conversation.agent_type;
  ui.exportMd.href = api.exportUrl(conversation.id, "markdown");
  ui.exportJson.href = api.exportUrl(conversation.id, "json");
  setAgentStatus();
}

function setAgentStatus() {
  const processing = state.currentId !== null && state.processing.has(state.currentId);
  const status = !socket.open ? "offline" : processing ? "processing" : "online";
  ui.agentStatus.textContent = status === "offline" && !socket.closedForGood ? "reconnecting…" : status;
  ui.agentDot.className = `status-dot ${status}`;
  ui.typing.classList.toggle("hidden", !processing);
  if (processing) {
    const name = conversationById(state.currentId)?.agent_name || "Agent";
    ui.typingLabel.textContent = `${name} is typing…`;
  }
}

function setProcessing(conversationId, on) {
  clearTimeout(state.processing.get(conversationId));
  if (on) {
    // A reply that is held for a human says nothing more; the indicator must not spin forever.
    const timer = setTimeout(() => setProcessing(conversationId, false), TYPING_TIMEOUT_MS);
    state.processing.set(conversationId, timer);
  } else {
    state.processing.delete(conversationId);
  }
  setAgentStatus();
  renderSidebar();
}

// ---------------------------------------------------------------- opening

function openConversation(id, { highlight = null } = {}) {
  state.currentId = id;
  state.entries.clear();
  state.nodes.clear();
  state.hasMore = false;
  state.highlight = highlight;
  state.unread.delete(id);
  ui.empty.remove();
  ui.messages.replaceChildren(el("p", "timeline-empty", "Loading…"));
  ui.app.classList.remove("show-list");
  history.replaceState(null, "", `?c=${id}`);
  setHeader();
  renderSidebar();
  socket.send({ event: "join_conversation", conversation_id: id }, { queue: false });
  ui.input.focus({ preventScroll: true });
}

function showEmpty() {
  state.currentId = null;
  state.entries.clear();
  state.nodes.clear();
  history.replaceState(null, "", location.pathname);
  ui.messages.replaceChildren(ui.empty);
  ui.app.classList.add("show-list");
  setHeader();
  renderSidebar();
}

async function focusHighlight() {
  const target = state.highlight;
  if (!target) return;
  for (let page = 0; page < 10 && !state.entries.has(`m:${target}`) && state.hasMore; page += 1) {
    if (!(await loadEarlier())) break;
  }
  state.highlight = null;
  const node = ui.messages.querySelector(`[data-id="${target}"]`);
  if (!node) return;
  node.scrollIntoView({ block: "center" });
  node.classList.add("highlight");
  setTimeout(() => node.classList.remove("highlight"), 2500);
}

// ---------------------------------------------------------------- reading

function markRead() {
  const id = state.currentId;
  if (id === null || document.visibilityState !== "visible") return;
  const agentIds = [...state.entries.values()]
    .filter((e) => e.type === "message" && e.data.id && e.data.kind !== "user")
    .map((e) => e.data.id);
  if (!agentIds.length) return;
  const latest = Math.max(...agentIds);
  if ((state.lastRead.get(id) || 0) >= latest) return;
  state.lastRead.set(id, latest);
  socket.send({ event: "mark_read", conversation_id: id, message_id: latest }, { queue: false });
}
document.addEventListener("visibilitychange", markRead);

// ---------------------------------------------------------------- sending

function sendFrame(clientId) {
  const pending = state.pending.get(clientId);
  if (!pending) return;
  clearTimeout(pending.timer);
  pending.timer = setTimeout(() => failPending(clientId, "No answer from the server."), ACK_TIMEOUT_MS);
  socket.send(
    { event: "send_message", conversation_id: pending.conversationId, client_id: clientId, message: pending.text },
    { queue: false },
  );
}

function failPending(clientId, detail) {
  const pending = state.pending.get(clientId);
  if (!pending) return;
  clearTimeout(pending.timer);
  pending.failed = true;
  if (pending.conversationId === state.currentId) {
    const entry = state.entries.get(`c:${clientId}`);
    if (entry) {
      entry.data.status = "failed";
      state.nodes.delete(entry.key);
      renderTimeline();
    }
  }
  if (detail) toast(detail);
}

function retry(message) {
  const pending = state.pending.get(message.client_id);
  if (!pending) return;
  pending.failed = false;
  const entry = state.entries.get(`c:${message.client_id}`);
  if (entry) {
    entry.data.status = "sending";
    state.nodes.delete(entry.key);
    renderTimeline();
  }
  sendFrame(message.client_id);
}

function submit() {
  const text = ui.input.value;
  if (!text.trim() || state.currentId === null) return;
  const clientId = newClientId();
  state.pending.set(clientId, { conversationId: state.currentId, text });
  putMessage({
    id: null,
    client_id: clientId,
    conversation_id: state.currentId,
    kind: "user",
    content: text,
    html: "",
    status: "sending",
    created_at: new Date().toISOString(),
  });
  ui.input.value = "";
  autosize();
  renderTimeline({ scroll: "bottom" });
  sendFrame(clientId);
}

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});

let typingSentAt = 0;
ui.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
    return;
  }
  if (state.currentId !== null && Date.now() - typingSentAt > 3000) {
    typingSentAt = Date.now();
    socket.send({ event: "typing", conversation_id: state.currentId, is_typing: true }, { queue: false });
  }
});

function autosize() {
  ui.input.style.height = "auto";
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 160)}px`;
}
ui.input.addEventListener("input", autosize);

async function toggleBookmark(message, button) {
  const on = !message.bookmarked;
  try {
    await api.bookmark(message.id, on);
  } catch (error) {
    toast(error.message);
    return;
  }
  message.bookmarked = on;
  button.textContent = on ? "★" : "☆";
  button.classList.toggle("on", on);
  button.title = on ? "Remove bookmark" : "Bookmark";
  button.setAttribute("aria-label", button.title);
  button.setAttribute("aria-pressed", String(on));
}

// ---------------------------------------------------------------- socket events

socket
  .on("open", () => {
    setAgentStatus();
    if (state.currentId !== null) {
      const after = state.lastSeen.get(state.currentId);
      socket.send({ event: "join_conversation", conversation_id: state.currentId, after: after ?? null });
    }
    for (const [clientId, pending] of state.pending) if (!pending.failed) sendFrame(clientId);
  })
  .on("close", () => setAgentStatus())
  .on("final", () => toast("You're logged out. Log in again to keep chatting."))
  .on("conversation_joined", (frame) => {
    if (frame.conversation_id !== state.currentId) return;
    if (frame.after === null) {
      state.entries.clear();
      state.nodes.clear();
      state.hasMore = frame.has_more;
    }
    frame.messages.forEach(putMessage);
    frame.cards.forEach(putCard);
    const summary = conversationById(frame.conversation_id);
    if (summary) Object.assign(summary, frame.conversation);
    setProcessing(frame.conversation_id, frame.processing);
    setHeader();
    renderTimeline({ scroll: frame.after === null ? "bottom" : "auto" });
    markRead();
    focusHighlight();
  })
  .on("message_received", (frame) => {
    const pending = state.pending.get(frame.client_id);
    if (pending) {
      clearTimeout(pending.timer);
      state.pending.delete(frame.client_id);
    }
    const message = { ...frame.message, status: frame.message.status === "received" ? "sent" : frame.message.status };
    const conversation = conversationById(frame.conversation_id);
    if (conversation) {
      const changes = { last_activity_at: frame.timestamp };
      if (conversation.title === "New chat") changes.title = message.content.replace(/\s+/g, " ").slice(0, 60);
      touchConversation(frame.conversation_id, changes);
    }
    if (frame.conversation_id === state.currentId) {
      putMessage(message);
      if (conversation) ui.title.textContent = conversation.title;
      renderTimeline();
    }
  })
  .on("agent_typing", (frame) => {
    // A fast worker's reply can overtake the "typing" that announced it.
    if (frame.is_typing && state.answered.has(frame.message_id)) return;
    setProcessing(frame.conversation_id, frame.is_typing);
  })
  .on("agent_response", onReply)
  .on("system_message", onReply)
  .on("message_status", (frame) => {
    const entry = state.entries.get(`m:${frame.message_id}`);
    if (!entry || frame.conversation_id !== state.currentId) return;
    entry.data.status = frame.status;
    state.nodes.delete(entry.key);
    renderTimeline();
  })
  .on("read_receipt", (frame) => {
    state.unread.delete(frame.conversation_id);
    renderSidebar();
  })
  .on("agent_switched", (frame) => {
    const conversation = conversationById(frame.conversation_id);
    if (conversation && conversation.agent_type === frame.agent_type) return;
    if (conversation) Object.assign(conversation, { agent_type: frame.agent_type, agent_name: frame.agent_name });
    if (frame.conversation_id === state.currentId) {
      putNotice(`You're now talking to the ${frame.agent_name}.`);
      setHeader();
      renderTimeline({ scroll: "bottom" });
    }
    renderSidebar();
  })
  .on("error", (frame) => {
    if (frame.client_id && state.pending.has(frame.client_id)) {
      const detail = frame.fields?.message?.[0] || frame.detail;
      failPending(frame.client_id, detail);
      return;
    }
    if (frame.error === "not_found" && frame.conversation_id === state.currentId) {
      state.conversations = state.conversations.filter((c) => c.id !== frame.conversation_id);
      showEmpty();
    }
    toast(frame.detail);
  });

function onReply(frame) {
  const message = frame.message;
  const id = frame.conversation_id;
  if (message.reply_to) state.answered.add(message.reply_to);
  setProcessing(id, false);
  const conversation = conversationById(id);
  const changes = { last_activity_at: message.created_at };
  if (message.agent_type && conversation && message.agent_type !== conversation.agent_type) {
    changes.agent_type = message.agent_type;
    changes.agent_name = message.agent_name;
  }
  touchConversation(id, changes);
  if (id !== state.currentId) {
    state.unread.set(id, (state.unread.get(id) || 0) + 1);
    renderSidebar();
    return;
  }
  putMessage(message);
  (frame.cards || []).forEach(putCard);
  setHeader();
  renderTimeline();
  markRead();
}

// ---------------------------------------------------------------- new chat, switch, delete

function agentButton(agent, onPick) {
  const button = el("button", "agent-option");
  button.type = "button";
  button.dataset.agentType = agent.agent_type;
  button.append(el("span", "avatar", initials(agent.name)));
  const text = el("span", "agent-option-text");
  text.append(el("strong", "", agent.name), el("span", "muted", agent.purpose));
  button.append(text);
  button.addEventListener("click", () => onPick(agent.agent_type));
  return button;
}

async function startChat(agentType) {
  ui.newChatDialog.close();
  try {
    const conversation = await api.createConversation(agentType);
    state.conversations.unshift(conversation);
    ui.search.value = "";
    showPanel("chats");
    openConversation(conversation.id);
  } catch (error) {
    toast(error.message);
  }
}

$("agent-options").append(...config.agents.map((a) => agentButton(a, startChat)));
$("agent-grid").append(...config.agents.map((a) => agentButton(a, startChat)));
$("new-chat").addEventListener("click", () => ui.newChatDialog.showModal());
$("back").addEventListener("click", () => ui.app.classList.add("show-list"));

for (const agent of config.agents) {
  const option = el("option", "", agent.name);
  option.value = agent.agent_type;
  ui.agentSwitch.append(option);
}
ui.agentSwitch.addEventListener("change", () => {
  if (state.currentId === null) return;
  socket.send({ event: "switch_agent", conversation_id: state.currentId, agent_type: ui.agentSwitch.value }, { queue: false });
});

$("delete-conversation").addEventListener("click", () => ui.deleteDialog.showModal());
ui.deleteDialog.addEventListener("close", async () => {
  if (ui.deleteDialog.returnValue !== "delete" || state.currentId === null) return;
  const id = state.currentId;
  try {
    await api.deleteConversation(id);
  } catch (error) {
    toast(error.message);
    return;
  }
  state.conversations = state.conversations.filter((c) => c.id !== id);
  toast("Chat deleted.");
  showEmpty();
});

// ---------------------------------------------------------------- start

async function start() {
  socket.connect();
  try {
    state.conversations = (await api.conversations()).results;
  } catch (error) {
    toast(error.message);
  }
  renderSidebar();
  const wanted = Number(new URLSearchParams(location.search).get("c"));
  if (wanted && conversationById(wanted)) openConversation(wanted);
  else setHeader();
}

start();
