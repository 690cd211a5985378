// DOM builders. Text goes in as textContent; the only HTML ever inserted is a message's "html",
// which the server rendered from markdown and sanitised (and the page's CSP forbids inline
// script besides).

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "short", day: "numeric" });
const shortFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

export function clock(iso) {
  return timeFormat.format(new Date(iso));
}

export function dayLabel(iso) {
  const date = new Date(iso);
  const today = new Date();
  const yesterday = new Date();
  yesterday.setDate(today.getDate() - 1);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return dayFormat.format(date);
}

export function when(iso) {
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString() ? clock(iso) : shortFormat.format(date);
}

export function initials(name) {
  const words = (name || "?").replace(/Agent|Marketing/g, "").trim().split(/\s+/);
  return words.slice(0, 2).map((w) => w[0] || "").join("").toUpperCase() || "?";
}

const STATUS_MARKS = {
  sending: { mark: "🕓", label: "Sending" },
  received: { mark: "✓", label: "Sent" },
  sent: { mark: "✓", label: "Sent" },
  delivered: { mark: "✓✓", label: "Delivered" },
  read: { mark: "✓✓", label: "Read" },
  failed: { mark: "!", label: "Not sent" },
};

export function statusMark(status) {
  const known = STATUS_MARKS[status] || STATUS_MARKS.sent;
  const node = el("span", `status-mark status-${status}`, known.mark);
  node.title = known.label;
  node.setAttribute("aria-label", known.label);
  return node;
}

// One message bubble. `message` has the server's shape (see protocol.message_frame).
export function bubble(message, { onBookmark, onRetry } = {}) {
  const kind = message.kind === "human" ? "agent" : message.kind;
  const row = el("article", `message message-${kind}`);
  row.dataset.id = message.id ?? "";
  if (message.client_id) row.dataset.clientId = message.client_id;
  if (kind === "system") {
    const body = el("div", "system-body");
    body.innerHTML = message.html;
    row.append(body);
    return row;
  }
  const wrap = el("div", "bubble");
  if (kind === "agent") {
    const who =
      message.kind === "human"
        ? `${message.sender_name || "Someone"} (team)`
        : message.agent_name || "Agent";
    wrap.append(el("div", "bubble-author", who));
  }
  const content = el("div", "bubble-content markdown");
  if (message.html) content.innerHTML = message.html;
  else content.textContent = message.content;
  wrap.append(content);
  const meta = el("div", "bubble-meta");
  meta.append(el("time", "bubble-time", message.created_at ? clock(message.created_at) : ""));
  if (kind === "user") meta.append(statusMark(message.status));
  wrap.append(meta);
  row.append(wrap);

  const tools = el("div", "message-tools");
  if (message.id) {
    const star = el("button", `bookmark${message.bookmarked ? " on" : ""}`, message.bookmarked ? "★" : "☆");
    star.type = "button";
    star.title = message.bookmarked ? "Remove bookmark" : "Bookmark";
    star.setAttribute("aria-label", star.title);
    star.setAttribute("aria-pressed", message.bookmarked ? "true" : "false");
    star.addEventListener("click", () => onBookmark && onBookmark(message, star));
    tools.append(star);
  }
  if (message.status === "failed" && onRetry) {
    const retry = el("button", "retry", "Retry");
    retry.type = "button";
    retry.addEventListener("click", () => onRetry(message));
    tools.append(retry);
  }
  row.append(tools);
  return row;
}

const CARD_STATUS = {
  pending: "Awaiting approval",
  approved: "Approved",
  auto_approved: "Approved",
  rejected: "Declined",
  escalated: "Escalated",
  changes_requested: "Changes requested",
  expired: "Expired",
};

const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", maximumFractionDigits: 0 });
const count = new Intl.NumberFormat();

export function card(approval) {
  const node = el("article", `action-card card-${approval.status}`);
  node.dataset.cardId = approval.id;
  if (approval.action_type === "held_reply") {
    node.classList.add("action-card-review");
    node.append(el("div", "card-kicker", "Reply under review"));
    node.append(el("p", "card-text", "A teammate is checking the agent's answer before it reaches you."));
  } else {
    node.append(el("div", "card-kicker", "Proposed action"));
    node.append(el("h3", "card-title", approval.title || approval.action_type.replaceAll("_", " ")));
    if (approval.description) node.append(el("p", "card-text", approval.description));
    const facts = el("dl", "card-facts");
    for (const figure of approval.figures || []) facts.append(el("dt", "", figure.label), el("dd", "", figure.value));
    if (approval.estimated_cost !== null && approval.estimated_cost !== undefined) {
      facts.append(el("dt", "", "Est. cost"), el("dd", "", money.format(Number(approval.estimated_cost))));
    }
    if (approval.estimated_reach !== null && approval.estimated_reach !== undefined) {
      facts.append(el("dt", "", "Est. reach"), el("dd", "", count.format(approval.estimated_reach)));
    }
    if (facts.childElementCount) node.append(facts);
  }
  node.append(el("span", `card-status pill-${approval.status}`, CARD_STATUS[approval.status] || approval.status));
  return node;
}

export function daySeparator(iso) {
  const node = el("div", "day-separator");
  node.append(el("span", "", dayLabel(iso)));
  node.dataset.day = new Date(iso).toDateString();
  return node;
}

export function notice(text) {
  const node = el("div", "notice");
  node.append(el("span", "", text));
  return node;
}
