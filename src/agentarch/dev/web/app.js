// agentarch chat page. Works against the local stack (settings from /local/config, local sign-in)
// and against a deployed example (settings from config.json written by `agentarch web-config`,
// sign-in through the Cognito hosted UI with the authorization code flow + PKCE).
"use strict";

const $ = (id) => document.getElementById(id);
// `thread` counts the times the message list was replaced (another conversation opened), so an answer
// that arrives afterwards is not shown in the wrong conversation.
// `attempt` is the message being sent and its Idempotency-Key: a retry of the same text in the same
// session reuses the key, so the service answers it once however often the network makes us resend.
// `usage` is the last quota report (GET /api/usage), counted down locally after each answer so a
// message still costs one request.
// `stream` is the answer being streamed (its AbortController), so Stop can end it.
const state = { config: null, token: null, sessionId: null, cursor: null, loadingList: false, sending: false, thread: 0, attempt: null, usage: null, stream: null };
const PATTERN_NAMES = { 0: "direct", 1: "passthrough", 2: "secure", 3: "full" };
const MAX_MESSAGE_CHARS = 4000; // the API's limit, in characters (code points)
const UNREACHABLE = "Cannot reach the service. Check that it is running and that you are online, then try again.";

function showError(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = !text;
}

function waitText(seconds) {
  if (seconds <= 0) return "a moment";
  if (seconds < 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  if (seconds < 5400) return `${Math.ceil(seconds / 60)} minutes`;
  return `about ${Math.round(seconds / 3600)} hours`;
}

// What a person reads when an answer is not OK. `during` says what they were doing: "sign-in",
// "send", "list", "open" or "delete". Errors of the API have the shape {"error": {"code", "message",
// "request_id"}}; the page words each status itself and shows the server's message only where it
// names what to fix (422), so nothing internal (an exception's name, a stack) ever reaches the user.
async function describeFailure(response, during) {
  let error = {};
  try {
    const body = await response.json();
    if (body && typeof body.error === "object" && body.error) error = body.error;
  } catch (_) { /* not JSON */ }
  const code = error.code || "";
  const retryAfter = parseInt(response.headers.get("Retry-After") || "", 10) || 0;
  const reference = error.request_id ? ` (request id ${error.request_id})` : "";
  const conversation = during === "open" || during === "send" || during === "delete";
  switch (response.status) {
    case 400:
      return during === "sign-in" ? "Sign-in failed. Try again."
        : `The service could not read the page's request. Reload the page and try again${reference}.`;
    case 401:
      return during === "sign-in" ? "Wrong username or password." : "Your sign-in has expired. Sign in again.";
    case 403:
      if (code === "locked") {
        const what = /your account/.test(error.message || "") ? "your account"
          : /conversation/.test(error.message || "") ? "this conversation" : "the assistant";
        return `An administrator has paused ${what}: nothing was run. Try again later or ask whoever runs it.`;
      }
      return "Access denied: this account may not do that.";
    case 404:
      return conversation ? "This conversation no longer exists: it was deleted, or it belongs to someone else."
        : "Not found: the page may be out of date. Reload it.";
    case 409:
      if (code === "approval_not_pending") {
        return "That request no longer waits for your answer: it was answered already, expired, or replaced by a newer message. Ask again if you still want it.";
      }
      if (code === "request_in_progress") {
        return "This message is still being answered. Wait a moment and send it again: it will not be answered twice.";
      }
      return `The service refused this request as a conflict${reference}.`;
    case 415:
      return `The service does not accept this request; the page may be out of date. Reload it and try again${reference}.`;
    case 413:
      return "Your message is too large for the service. Shorten it and send it again.";
    case 422:
      return error.message ? `The service did not accept this: ${String(error.message).replace(/\.$/, "")}.`
        : "The service did not accept this request.";
    case 429:
      if (code === "quota_exceeded") {
        const what = /token/.test(error.message || "") ? "model tokens" : "messages";
        return `You have used today's ${what}. Your quota resets at midnight UTC, in ${waitText(retryAfter)}.`;
      }
      if (code === "too_many_attempts") return `Too many failed sign-ins. Try again in ${waitText(retryAfter)}.`;
      return `Too many requests from your address. Wait ${retryAfter ? waitText(retryAfter) : "a minute"} and try again.`;
    case 500:
      return `The service failed${reference}. Try again; if it keeps failing, tell whoever runs it the request id.`;
    case 502:
      return `The agent failed to answer${reference}. Try again.`;
    case 503:
      if (code === "service_unavailable") return "The service is busy right now. Try again in a few seconds.";
      if (code === "storage_unavailable") {
        return "Conversations cannot be saved or read right now (nothing was half-saved). Try again shortly.";
      }
      return "The service is unavailable right now. Try again shortly.";
    case 504:
      return "The agent took too long to answer. Try again, or ask something simpler.";
    default:
      return `The request failed (HTTP ${response.status})${reference}. Try again.`;
  }
}

// Show a failed answer; a 401 outside sign-in means the token is no longer good.
async function reportFailure(response, during) {
  showError(await describeFailure(response, during));
  if (response.status === 401 && during !== "sign-in") showLogin();
}

async function loadConfig() {
  for (const url of ["/local/config", "config.json"]) {
    try {
      const response = await fetch(url, { cache: "no-store" });
      if (response.ok) return await response.json();
    } catch (_) { /* try the next source */ }
  }
  throw new Error("no configuration found (neither /local/config nor config.json)");
}

// ---------- sign-in ----------

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function hostedSignIn() {
  const c = state.config.cognito;
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const oauthState = base64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("pkce", JSON.stringify({ verifier, oauthState }));
  const params = new URLSearchParams({ response_type: "code", client_id: c.client_id, redirect_uri: c.redirect_uri,
    scope: c.scope, state: oauthState, code_challenge: challenge, code_challenge_method: "S256" });
  location.assign(`https://${c.domain}/oauth2/authorize?${params}`);
}

async function finishHostedSignIn() {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return false;
  const saved = JSON.parse(sessionStorage.getItem("pkce") || "{}");
  history.replaceState(null, "", location.pathname);
  if (!saved.verifier || params.get("state") !== saved.oauthState) {
    showError("Sign-in failed: the answer from the sign-in page does not match this browser's request.");
    return false;
  }
  const c = state.config.cognito;
  const response = await fetch(`https://${c.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: c.client_id, code,
      redirect_uri: c.redirect_uri, code_verifier: saved.verifier }),
  });
  sessionStorage.removeItem("pkce");
  if (!response.ok) { showError(await describeFailure(response, "sign-in")); return false; }
  const tokens = await response.json();
  saveToken(tokens.access_token, null);
  return true;
}

async function localSignIn(event) {
  event.preventDefault();
  const button = $("login-button");
  button.disabled = true;
  try {
    const response = await fetch(state.config.auth.login_url, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }),
    });
    if (!response.ok) { showError(await describeFailure(response, "sign-in")); return; }
    const tokens = await response.json();
    saveToken(tokens.access_token, $("username").value);
    showError("");
    enterApp();
  } catch (_) {
    showError("Cannot reach the sign-in service. Check that it is running, then try again.");
  } finally {
    button.disabled = false;
  }
}

function saveToken(token, username) {
  state.token = token;
  sessionStorage.setItem("token", token);
  if (username) sessionStorage.setItem("username", username);
}

function signOut() {
  sessionStorage.clear();
  rememberOpenConversation(null);
  state.token = null;
  if (state.config.cognito && state.config.cognito.logout_uri) {
    const c = state.config.cognito;
    location.assign(`https://${c.domain}/logout?${new URLSearchParams({ client_id: c.client_id, logout_uri: c.logout_uri })}`);
    return;
  }
  location.reload();
}

function tokenExpired(token) {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload.exp * 1000 < Date.now() + 10000;
  } catch (_) { return true; }
}

// ---------- API ----------

async function api(path, options = {}) {
  const response = await fetch(`${state.config.api_url}${path}`, {
    ...options,
    headers: { ...(options.body ? { "Content-Type": "application/json" } : {}),
      Authorization: `Bearer ${state.token}`, ...(options.headers || {}) },
  });
  if (response.status === 401) { sessionStorage.removeItem("token"); }
  return response;
}

// Every answer is asked for as a stream (Server-Sent Events): the text shows as the model writes it.
// `signal` lets Stop end the stream.
async function sendToAgent(message, signal) {
  if (state.config.pattern === 0) {
    // Pattern 0: the browser calls the runtime itself with the user's token (the anti-pattern).
    const sessionId = state.sessionId || ("s" + base64url(crypto.getRandomValues(new Uint8Array(30))).replace(/[-_]/g, "0"));
    // runtime_url is the runtime's full invocation URL, locally and in Terraform's outputs alike.
    return fetch(state.config.runtime_url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream", Authorization: `Bearer ${state.token}`,
        "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": sessionId },
      body: JSON.stringify({ prompt: message, stream: true }),
      signal,
    }).then((response) => { response.sessionId = sessionId; return response; });
  }
  const body = { message };
  if (state.sessionId) body.session_id = state.sessionId;
  const same = state.attempt && state.attempt.message === message && state.attempt.sessionId === state.sessionId;
  if (!same) state.attempt = { message, sessionId: state.sessionId, key: idempotencyKey() };
  return api("/chat", { method: "POST", body: JSON.stringify(body), signal,
    headers: { Accept: "text/event-stream", ...(state.config.pattern >= 2 ? { "Idempotency-Key": state.attempt.key } : {}) } });
}

function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return base64url(crypto.getRandomValues(new Uint8Array(24)));
}

// ---------- the daily quota (patterns 2 and 3) ----------

async function loadUsage() {
  const line = $("usage");
  if (state.config.pattern < 2) { line.hidden = true; return; }
  try {
    const response = await api("/usage");
    const usage = response.ok ? await response.json() : null;
    // A report without its parts (an older API, a proxy's page) shows nothing rather than breaking chat.
    if (!usage || !usage.used || !usage.limits || !usage.remaining) { state.usage = null; line.hidden = true; return; }
    showUsage(usage);
  } catch (_) {
    state.usage = null;
    line.hidden = true;
  }
}

// An answered message: one request and the tokens the answer reports, as the service charged them.
function countAnswer(reply) {
  if (!state.usage) return;
  const used = state.usage.used;
  used.requests += 1;
  if (reply.usage) used.tokens += (reply.usage.input_tokens || 0) + (reply.usage.output_tokens || 0);
  state.usage.remaining = {
    requests: Math.max(0, state.usage.limits.requests_per_day - used.requests),
    tokens: Math.max(0, state.usage.limits.tokens_per_day - used.tokens),
  };
  showUsage(state.usage);
}

function showUsage(usage) {
  state.usage = usage;
  const line = $("usage");
  const left = usage.remaining;
  const number = (n) => n.toLocaleString("en-US");
  const spent = left.requests <= 0 || left.tokens <= 0;
  line.textContent = spent
    ? `Today's quota is spent (${left.requests <= 0 ? "messages" : "model tokens"}). It resets at midnight UTC, in ${waitText(usage.resets_in_seconds)}.`
    : `Left today: ${number(left.requests)} of ${number(usage.limits.requests_per_day)} messages, ` +
      `${number(left.tokens)} of ${number(usage.limits.tokens_per_day)} model tokens (resets at midnight UTC).`;
  line.classList.toggle("spent", spent);
  line.hidden = false;
  state.quotaSpent = spent;
  const send = $("send");
  send.disabled = state.sending || spent;
  send.title = spent ? line.textContent : "";
}

// ---------- chat ----------

// What the tool policy made of a call, in words (the API's `decision` of each tool call).
const DECISIONS = {
  allow: "ran",
  deny: "not permitted",
  log_only_deny: "ran — a policy would deny it (LOG_ONLY mode)",
  pending_approval: "waiting for your approval",
  approved: "approved by you, ran",
  rejected: "rejected by you, not run",
};

function toolLine(call) {
  const line = document.createElement("span");
  line.className = `tools decision-${call.decision || "allow"}`;
  line.dataset.testid = "tool-call";
  line.dataset.decision = call.decision || "allow";
  const policies = (call.policies || []).length ? ` (policy: ${call.policies.join(", ")})` : "";
  const shown = call.decision === "allow" || !call.decision ? "" : policies;
  line.textContent = `tool ${call.name}: ${DECISIONS[call.decision] || call.decision || "ran"}${shown}`;
  return line;
}

function addMessage(role, text, toolCalls) {
  const item = document.createElement("li");
  item.className = role;
  item.textContent = text;
  for (const call of toolCalls || []) item.appendChild(toolLine(call));
  $("messages").appendChild(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

// ---------- a streamed answer ----------

// The events of a text/event-stream body, one at a time, as they arrive.
async function* serverEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        const data = block.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
        if (data) yield JSON.parse(data);
      }
    }
  } finally {
    reader.releaseLock();
  }
}

// Show a streamed answer as it comes: the text in a live message, each tool call as it is decided.
// Returns the reply (the `done` event's, or the agent's own `reply` in patterns 0 and 1), or null
// after an error event (shown) or Stop.
async function showStream(response, thread) {
  const live = addMessage("assistant streaming", "");
  live.dataset.testid = "streaming";
  const text = document.createElement("span");
  text.className = "text";
  live.replaceChildren(text);
  const here = () => state.thread === thread;
  try {
    for await (const event of serverEvents(response)) {
      if (!here()) continue; // another conversation is open: read on, show nothing
      if (event.type === "text") {
        text.textContent += event.text;
        live.scrollIntoView({ block: "end" });
      } else if (event.type === "tool_call") {
        live.appendChild(toolLine(event.call));
      } else if (event.type === "stopped") {
        const note = document.createElement("span");
        note.className = "tools decision-deny";
        note.textContent = event.message;
        live.appendChild(note);
      } else if (event.type === "error") {
        live.remove();
        const failed = new Response(JSON.stringify({ error: event.error }), { status: event.status || 502 });
        await reportFailure(failed, "send");
        return null;
      } else if (event.type === "done" || event.type === "reply") {
        live.remove();
        return event.reply;
      }
    }
  } catch (err) {
    if (err && err.name === "AbortError") {
      live.classList.remove("streaming");
      const note = document.createElement("span");
      note.className = "tools";
      note.textContent = isConversationsEnabled()
        ? "Stopped. The agent finishes this answer anyway; it is saved in the conversation."
        : "Stopped.";
      live.appendChild(note);
      return null;
    }
    throw err;
  }
  live.remove();
  showError("The answer broke off before it was complete. Try again.");
  return null;
}

function stopStream() {
  if (state.stream) state.stream.abort();
}

// A tool call that waits for the user: what it will do, and Approve / Reject.
function addApproval(pending, sessionId) {
  const item = document.createElement("li");
  item.className = "approval";
  item.dataset.testid = "approval";
  const title = document.createElement("strong");
  title.textContent = `Approve ${pending.tool}?`;
  // Whose words led here, when the call was proposed after reading others' (as text, never HTML).
  const why = document.createElement("p");
  why.className = "approval-reason";
  why.dataset.testid = "approval-reason";
  why.textContent = pending.reason || "";
  why.hidden = !pending.reason;
  const details = document.createElement("dl");
  for (const [name, value] of Object.entries(pending.arguments || {})) {
    const term = document.createElement("dt");
    term.textContent = name;
    const description = document.createElement("dd");
    description.textContent = typeof value === "string" ? value : JSON.stringify(value);
    details.append(term, description);
  }
  const approve = document.createElement("button");
  approve.textContent = "Approve";
  approve.dataset.testid = "approve";
  const reject = document.createElement("button");
  reject.textContent = "Reject";
  reject.className = "secondary";
  reject.dataset.testid = "reject";
  const buttons = document.createElement("div");
  buttons.append(approve, reject);
  item.append(title, why, details, buttons);
  const answer = async (decision) => {
    if (state.sending) return;
    approve.disabled = reject.disabled = true;
    const ok = await sendApproval(pending, decision, sessionId);
    if (ok) item.remove();
    else approve.disabled = reject.disabled = false;
  };
  approve.addEventListener("click", () => answer("approve"));
  reject.addEventListener("click", () => answer("reject"));
  $("messages").appendChild(item);
  item.scrollIntoView({ block: "end" });
}

async function sendApproval(pending, decision, sessionId) {
  setSending(true);
  const thread = state.thread;
  const waiting = addMessage("pending", "…");
  try {
    const response = await api("/chat", {
      method: "POST",
      body: JSON.stringify({ session_id: sessionId, approval: { id: pending.id, decision } }),
    });
    waiting.remove();
    if (!response.ok) {
      await reportFailure(response, "send");
      return response.status === 409; // nothing waits any more: the card has no use
    }
    const reply = await response.json();
    showError("");
    if (state.thread === thread) {
      addMessage("user", `${decision === "approve" ? "Approved" : "Rejected"} ${pending.tool}.`);
      showReply(reply);
    }
    return true;
  } catch (_) {
    waiting.remove();
    showError(UNREACHABLE);
    return false;
  } finally {
    setSending(false);
  }
}

function showReply(reply) {
  addMessage("assistant", reply.response, reply.tool_calls);
  if (reply.pending_approval) addApproval(reply.pending_approval, reply.session_id);
}

function characters(text) { return [...text].length; } // code points, as the API counts

function updateCounter() {
  const length = characters($("message").value.trim());
  const counter = $("counter");
  const over = length > MAX_MESSAGE_CHARS;
  counter.textContent = over
    ? `${length.toLocaleString("en-US")} / 4,000 characters: ${(length - MAX_MESSAGE_CHARS).toLocaleString("en-US")} too many`
    : `${length.toLocaleString("en-US")} / 4,000`;
  counter.classList.toggle("over", over);
}

function setSending(sending) {
  state.sending = sending;
  $("send").disabled = sending || Boolean(state.quotaSpent);
  $("send").hidden = sending;
  $("stop").hidden = !sending;
  $("message").readOnly = sending; // what is sent is what stays in the box if sending fails
}

async function onSend(event) {
  event.preventDefault();
  if (state.sending) return;
  const box = $("message");
  const text = box.value.trim();
  if (!text) { showError("Type a message first."); return; }
  if (state.quotaSpent) { showError($("usage").textContent); return; }
  const length = characters(text);
  if (length > MAX_MESSAGE_CHARS) {
    showError(`Your message is ${length.toLocaleString("en-US")} characters; the limit is 4,000. Shorten it and send it again.`);
    return;
  }
  setSending(true);
  const thread = state.thread;
  const question = addMessage("user", text);
  const pending = addMessage("pending", "…");
  state.stream = new AbortController();
  try {
    const response = await sendToAgent(text, state.stream.signal);
    if (!response.ok) {
      question.remove();
      pending.remove();
      await reportFailure(response, "send");
      if (response.status === 429) loadUsage();
      return;
    }
    pending.remove();
    let reply;
    if ((response.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
      reply = await showStream(response, thread);
      if (!reply) {
        state.attempt = null;
        box.value = "";
        updateCounter();
        if (isConversationsEnabled()) loadConversationPage({ fresh: true });
        return;
      }
      if (!reply.session_id && response.sessionId) reply.session_id = response.sessionId;
    } else {
      reply = await response.json();
    }
    state.attempt = null;
    countAnswer(reply);
    pending.remove();
    showError("");
    box.value = "";
    updateCounter();
    const stillOpen = state.thread === thread;
    if (stillOpen) showReply(reply);
    if (isConversationsEnabled()) {
      if (stillOpen) rememberOpenConversation(reply.session_id);
      showTurnInSidebar(reply.session_id, text);
    } else {
      state.sessionId = reply.session_id;
    }
  } catch (_) {
    question.remove();
    pending.remove();
    showError(UNREACHABLE);
  } finally {
    state.stream = null;
    setSending(false);
    box.focus();
  }
}

// ---------- conversations (pattern 3) ----------

function isConversationsEnabled() { return state.config.pattern === 3; }

function describeActivity(conversation) {
  return `${conversation.message_count} messages, last ${new Date(conversation.updated_at).toLocaleString()}`;
}

// A date a person reads at a glance: the time today, "Yesterday", the weekday this week, else the date.
function readableDate(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  const now = new Date();
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(now) - day(when)) / 86400000);
  if (days === 0) return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (days === 1) return "Yesterday";
  if (days > 1 && days < 7) return when.toLocaleDateString([], { weekday: "long" });
  const sameYear = when.getFullYear() === now.getFullYear();
  return when.toLocaleDateString([], { day: "numeric", month: "short", ...(sameYear ? {} : { year: "numeric" }) });
}

function conversationItem(conversation) {
  const item = document.createElement("li");
  item.dataset.sessionId = conversation.session_id;
  item.dataset.messageCount = String(conversation.message_count);
  item.className = conversation.session_id === state.sessionId ? "active" : "";
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = conversation.title;
  title.title = describeActivity(conversation);
  const date = document.createElement("time");
  date.className = "date";
  date.dateTime = conversation.updated_at;
  date.textContent = readableDate(conversation.updated_at);
  date.dataset.testid = "conversation-date";
  const label = document.createElement("span");
  label.className = "label";
  label.append(title, date);
  const remove = document.createElement("button");
  remove.className = "delete";
  remove.setAttribute("aria-label", `Delete ${conversation.title}`);
  remove.textContent = "×";
  remove.addEventListener("click", (e) => { e.stopPropagation(); deleteConversation(conversation.session_id); });
  item.append(label, remove);
  item.addEventListener("click", () => { closeDrawer(); openConversation(conversation.session_id); });
  return item;
}

function sidebarItem(sessionId) {
  return [...$("conversations").children].find((item) => item.dataset.sessionId === sessionId);
}

// The title the server gives a conversation: the first non-blank line of its first message, whitespace
// collapsed, cut to 60 characters. The sidebar shows it until the list is next loaded from the server.
function provisionalTitle(text) {
  const line = text.split("\n").map((part) => part.split(/\s+/).filter(Boolean).join(" ")).find(Boolean) || "";
  return line.length <= 60 ? line : line.slice(0, 59).trimEnd() + "…";
}

// A turn was stored: move its conversation to the top of the sidebar (adding it when new), from the
// chat answer alone, so a message costs one request of the rate budget, not two.
function showTurnInSidebar(sessionId, text) {
  const now = new Date().toISOString();
  const existing = sidebarItem(sessionId);
  const conversation = existing
    ? { session_id: sessionId, title: existing.querySelector(".title").textContent,
      message_count: Number(existing.dataset.messageCount) + 2, updated_at: now }
    : { session_id: sessionId, title: provisionalTitle(text), message_count: 2, updated_at: now };
  if (existing) existing.remove();
  $("conversations").prepend(conversationItem(conversation));
  if ($("conversations-end").dataset.empty) setListEnd("");
}

function setListEnd(kind) {
  const end = $("conversations-end");
  end.replaceChildren();
  delete end.dataset.empty;
  if (kind === "empty") {
    end.textContent = "No conversations yet";
    end.dataset.empty = "yes";
  } else if (kind === "failed") {
    const retry = document.createElement("button");
    retry.className = "link-dark";
    retry.textContent = "Load the conversations again";
    retry.addEventListener("click", () => loadConversationPage({ fresh: !$("conversations").children.length }));
    end.append("Conversations could not be loaded. ", retry);
  }
}

// Load one page of the list: the first page when `fresh` (replacing the list only once it has
// arrived), else the next. A failed load leaves the list as it was.
async function loadConversationPage({ fresh = false } = {}) {
  if (state.loadingList || (!fresh && state.cursor === undefined)) return;
  state.loadingList = true;
  let loaded = false;
  try {
    const query = new URLSearchParams({ limit: "20" });
    if (!fresh && state.cursor) query.set("cursor", state.cursor);
    const response = await api(`/conversations?${query}`);
    if (!response.ok) {
      setListEnd("failed");
      await reportFailure(response, "list");
      return;
    }
    const page = await response.json();
    const list = $("conversations");
    if (fresh) list.replaceChildren();
    for (const conversation of page.items) {
      if (!sidebarItem(conversation.session_id)) list.appendChild(conversationItem(conversation));
    }
    state.cursor = page.next_cursor || undefined;
    setListEnd(!state.cursor && !list.children.length ? "empty" : "");
    loaded = true;
  } catch (_) {
    setListEnd("failed");
    showError(UNREACHABLE);
  } finally {
    state.loadingList = false;
  }
  // A tall window may show the whole page with no scrollbar: keep loading until it scrolls or ends.
  const bar = $("sidebar");
  if (loaded && state.cursor !== undefined && bar.scrollHeight <= bar.clientHeight) await loadConversationPage();
}

// The open conversation lives in the URL (#session=…), so a reload reopens it.
function rememberOpenConversation(sessionId) {
  state.sessionId = sessionId;
  const url = sessionId ? `#session=${encodeURIComponent(sessionId)}` : location.pathname + location.search;
  history.replaceState(null, "", url);
  for (const item of $("conversations").children) item.classList.toggle("active", item.dataset.sessionId === sessionId);
}

function conversationInUrl() {
  return new URLSearchParams(location.hash.slice(1)).get("session");
}

async function openConversation(sessionId) {
  showError("");
  rememberOpenConversation(sessionId);
  // Pages come newest first, each in chronological order: collect them, then show oldest first.
  const pages = [];
  let cursor = null;
  let pending = null;
  try {
    do {
      const query = new URLSearchParams({ limit: "100" });
      if (cursor) query.set("cursor", cursor);
      const response = await api(`/conversations/${encodeURIComponent(sessionId)}?${query}`);
      if (!response.ok) {
        if (response.status === 404 && state.sessionId === sessionId) newConversation();
        await reportFailure(response, "open");
        return;
      }
      const page = await response.json();
      if (!cursor) pending = page.pending_approval || null; // the first page (newest) says what waits
      pages.unshift(page.messages);
      cursor = page.next_cursor;
    } while (cursor);
  } catch (_) {
    showError(UNREACHABLE);
    return;
  }
  if (state.sessionId !== sessionId) return; // the user moved on meanwhile
  state.thread += 1;
  $("messages").replaceChildren();
  // Tool lines show when the history carries them (`tool_calls` on a message), as they do live.
  for (const message of pages.flat()) addMessage(message.role, message.text, message.tool_calls);
  if (pending) addApproval(pending, sessionId);
}

async function deleteConversation(sessionId) {
  if (!confirm("Delete this conversation and its history?")) return;
  try {
    const response = await api(`/conversations/${encodeURIComponent(sessionId)}`, { method: "DELETE" });
    if (!response.ok && response.status !== 404) { await reportFailure(response, "delete"); return; }
  } catch (_) {
    showError(UNREACHABLE);
    return;
  }
  if (state.sessionId === sessionId) newConversation();
  const item = sidebarItem(sessionId);
  if (item) item.remove();
  if (!$("conversations").children.length && state.cursor === undefined) setListEnd("empty");
}

// On a narrow screen the conversations are a drawer over the chat, opened from the header.
function toggleDrawer() {
  const open = !document.body.classList.contains("drawer-open");
  document.body.classList.toggle("drawer-open", open);
  $("menu").setAttribute("aria-expanded", String(open));
}

function closeDrawer() {
  document.body.classList.remove("drawer-open");
  $("menu").setAttribute("aria-expanded", "false");
}

function newConversation() {
  closeDrawer();
  rememberOpenConversation(null);
  state.thread += 1;
  $("messages").replaceChildren();
  $("message").focus();
}

// ---------- screens ----------

function showLogin() {
  $("app").hidden = true;
  $("login").hidden = false;
  const hosted = state.config.auth === undefined && state.config.cognito;
  $("login-form").hidden = Boolean(hosted);
  $("hosted-login").hidden = !hosted;
  $("logout").hidden = true;
}

function enterApp() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = sessionStorage.getItem("username") ? `signed in as ${sessionStorage.getItem("username")}` : "signed in";
  $("sidebar").hidden = !isConversationsEnabled();
  $("menu").hidden = !isConversationsEnabled();
  loadUsage();
  if (typeof auditView !== "undefined") auditView.probe();  // audit.js: shown to the audit group only
  if (isConversationsEnabled()) {
    loadConversationPage({ fresh: true });
    const reopen = conversationInUrl();
    if (reopen) openConversation(reopen);
  }
  $("message").focus();
}

async function start() {
  try {
    state.config = await loadConfig();
  } catch (err) {
    showError(err.message);
    return;
  }
  const pattern = state.config.pattern;
  $("pattern").textContent = `pattern ${pattern} · ${PATTERN_NAMES[pattern] || "?"}`;
  if (state.config.insecure) {
    $("pattern").classList.add("insecure");
    const warning = $("warning");
    warning.hidden = false;
    warning.textContent = pattern === 0
      ? "Insecure pattern 0: this page calls the agent runtime directly with your token. No rate limit, no validation, nowhere for business logic."
      : "Insecure pattern 1: the front door forwards your token to the runtime, so the same token also opens the runtime directly (the bypass gap).";
    // The agent verifies your token and answers as you, but this browser writes the history and
    // any approval, so tools that change something (tickets, comments) are not available here.
    warning.textContent += " Tools that change something (opening a ticket, commenting on one) are not available:"
      + " this page itself would write the history and the approvals they rely on. They run behind the secure front door (patterns 2 and 3).";
  }
  $("login-form").addEventListener("submit", localSignIn);
  $("hosted-login").addEventListener("click", hostedSignIn);
  $("logout").addEventListener("click", signOut);
  $("chat-form").addEventListener("submit", onSend);
  $("message").addEventListener("input", updateCounter);
  $("message").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("chat-form").requestSubmit(); }
  });
  $("new-conversation").addEventListener("click", newConversation);
  $("stop").addEventListener("click", stopStream);
  $("menu").addEventListener("click", toggleDrawer);
  $("scrim").addEventListener("click", closeDrawer);
  $("sidebar").addEventListener("scroll", () => {
    const s = $("sidebar");
    if (s.scrollTop + s.clientHeight >= s.scrollHeight - 40) loadConversationPage();
  });
  if (state.config.cognito && !state.config.auth) await finishHostedSignIn();
  const saved = sessionStorage.getItem("token");
  if (saved && !tokenExpired(saved)) {
    state.token = saved;
    enterApp();
  } else {
    showLogin();
  }
}

start();
