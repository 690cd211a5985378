// The chat's REST API, with the page's CSRF token on writes.

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function createApi(base) {
  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(base + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
  return {
    conversations: () => call("GET", "conversations"),
    createConversation: (agentType) => call("POST", "conversations", { agent_type: agentType }),
    conversation: (id, before) =>
      call("GET", `conversations/${id}${before ? `?before=${encodeURIComponent(before)}` : ""}`),
    deleteConversation: (id) => call("DELETE", `conversations/${id}`),
    search: (q) => call("GET", `search?q=${encodeURIComponent(q)}`),
    bookmarks: () => call("GET", "bookmarks"),
    bookmark: (messageId, on) => call(on ? "PUT" : "DELETE", `messages/${messageId}/bookmark`),
    exportUrl: (id, kind) => `${base}conversations/${id}/export/${kind}`,
  };
}
