// agentarch chat page. Works against the local stack (settings from /local/config, local sign-in)
// and against a deployed example (settings from config.json written by `agentarch web-config`,
// sign-in through the Cognito hosted UI with the authorization code flow + PKCE).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { config: null, token: null, sessionId: null, cursor: null, loadingList: false };
const PATTERN_NAMES = { 0: "direct", 1: "passthrough", 2: "secure", 3: "full" };

function showError(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = !text;
}

async function describeFailure(response) {
  // Every error of the API has the shape {"error": {"code", "message", "request_id"}}.
  let detail = "";
  try {
    const body = await response.json();
    detail = (body.error && body.error.message) || body.message || "";
  } catch (_) { /* not JSON */ }
  const reasons = { 401: "You are signed out", 403: "Access denied", 404: "Not found",
    413: "Your message is too large", 429: "Too many requests", 502: "The agent failed",
    504: "The agent took too long" };
  const head = reasons[response.status] || `Request failed (HTTP ${response.status})`;
  return detail ? `${head}: ${detail}` : head;
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
  if (!response.ok) { showError(await describeFailure(response)); return false; }
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
    if (!response.ok) { showError(await describeFailure(response)); return; }
    const tokens = await response.json();
    saveToken(tokens.access_token, $("username").value);
    showError("");
    enterApp();
  } catch (err) {
    showError(`Cannot reach the sign-in service: ${err.message}`);
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

async function sendToAgent(message) {
  if (state.config.pattern === 0) {
    // Pattern 0: the browser calls the runtime itself with the user's token (the anti-pattern).
    const sessionId = state.sessionId || ("s" + base64url(crypto.getRandomValues(new Uint8Array(30))).replace(/[-_]/g, "0"));
    // runtime_url is the runtime's full invocation URL, locally and in Terraform's outputs alike.
    return fetch(state.config.runtime_url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.token}`,
        "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": sessionId },
      body: JSON.stringify({ prompt: message }),
    });
  }
  const body = { message };
  if (state.sessionId) body.session_id = state.sessionId;
  return api("/chat", { method: "POST", body: JSON.stringify(body) });
}

// ---------- chat ----------

function addMessage(role, text, toolCalls) {
  const item = document.createElement("li");
  item.className = role;
  item.textContent = text;
  if (toolCalls && toolCalls.length) {
    const tools = document.createElement("span");
    tools.className = "tools";
    tools.textContent = "tools: " + toolCalls.map((t) => t.name).join(", ");
    item.appendChild(tools);
  }
  $("messages").appendChild(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

async function onSend(event) {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text) return;
  $("send").disabled = true;
  addMessage("user", text);
  $("message").value = "";
  const pending = addMessage("assistant pending", "…");
  try {
    const response = await sendToAgent(text);
    if (!response.ok) {
      pending.remove();
      showError(await describeFailure(response));
      if (response.status === 401) showLogin();
      return;
    }
    const reply = await response.json();
    pending.remove();
    showError("");
    addMessage("assistant", reply.response, reply.tool_calls);
    const isNew = !state.sessionId;
    state.sessionId = reply.session_id;
    if (isConversationsEnabled()) await refreshConversations(isNew);
  } catch (err) {
    pending.remove();
    showError(`Cannot reach the service: ${err.message}`);
  } finally {
    $("send").disabled = false;
    $("message").focus();
  }
}

// ---------- conversations (pattern 3) ----------

function isConversationsEnabled() { return state.config.pattern === 3; }

function conversationItem(conversation) {
  const item = document.createElement("li");
  item.dataset.sessionId = conversation.session_id;
  item.className = conversation.session_id === state.sessionId ? "active" : "";
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = conversation.title;
  title.title = `${conversation.message_count} messages, last ${new Date(conversation.updated_at).toLocaleString()}`;
  const remove = document.createElement("button");
  remove.className = "delete";
  remove.setAttribute("aria-label", `Delete ${conversation.title}`);
  remove.textContent = "×";
  remove.addEventListener("click", (e) => { e.stopPropagation(); deleteConversation(conversation.session_id); });
  item.append(title, remove);
  item.addEventListener("click", () => openConversation(conversation.session_id));
  return item;
}

async function loadConversationPage() {
  if (state.loadingList || state.cursor === undefined) return;
  state.loadingList = true;
  try {
    const query = new URLSearchParams({ limit: "20" });
    if (state.cursor) query.set("cursor", state.cursor);
    const response = await api(`/conversations?${query}`);
    if (!response.ok) { showError(await describeFailure(response)); return; }
    const page = await response.json();
    for (const conversation of page.items) $("conversations").appendChild(conversationItem(conversation));
    state.cursor = page.next_cursor || undefined;
    $("conversations-end").textContent = state.cursor ? "" : ($("conversations").children.length ? "" : "No conversations yet");
  } finally {
    state.loadingList = false;
  }
  // A tall window may show the whole page with no scrollbar: keep loading until it scrolls or ends.
  const bar = $("sidebar");
  if (state.cursor !== undefined && bar.scrollHeight <= bar.clientHeight) await loadConversationPage();
}

async function refreshConversations() {
  $("conversations").replaceChildren();
  state.cursor = null;
  await loadConversationPage();
}

async function openConversation(sessionId) {
  showError("");
  state.sessionId = sessionId;
  for (const item of $("conversations").children) item.classList.toggle("active", item.dataset.sessionId === sessionId);
  // Pages come newest first, each in chronological order: collect them, then show oldest first.
  const pages = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "100" });
    if (cursor) query.set("cursor", cursor);
    const response = await api(`/conversations/${encodeURIComponent(sessionId)}?${query}`);
    if (!response.ok) { showError(await describeFailure(response)); return; }
    const page = await response.json();
    pages.unshift(page.messages);
    cursor = page.next_cursor;
  } while (cursor);
  if (state.sessionId !== sessionId) return; // the user moved on meanwhile
  $("messages").replaceChildren();
  for (const message of pages.flat()) addMessage(message.role, message.text);
}

async function deleteConversation(sessionId) {
  if (!confirm("Delete this conversation and its history?")) return;
  const response = await api(`/conversations/${encodeURIComponent(sessionId)}`, { method: "DELETE" });
  if (!response.ok) { showError(await describeFailure(response)); return; }
  if (state.sessionId === sessionId) newConversation();
  await refreshConversations();
}

function newConversation() {
  state.sessionId = null;
  $("messages").replaceChildren();
  for (const item of $("conversations").children) item.classList.remove("active");
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
  if (isConversationsEnabled()) refreshConversations();
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
  }
  $("login-form").addEventListener("submit", localSignIn);
  $("hosted-login").addEventListener("click", hostedSignIn);
  $("logout").addEventListener("click", signOut);
  $("chat-form").addEventListener("submit", onSend);
  $("message").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("chat-form").requestSubmit(); }
  });
  $("new-conversation").addEventListener("click", newConversation);
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
