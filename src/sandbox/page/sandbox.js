// The sandbox page's script: plain JavaScript for current browsers, served as is (no build step).
// It talks only to /admin/sandbox/api/* and /admin/conversations/*, with the admin token in the
// Authorization header. The token lives in sessionStorage (this tab only), never in a URL.
'use strict';

const TOKEN_KEY = 'psi-router-sandbox-token';
const CUSTOMERS_KEY = 'psi-router-sandbox-customers';
const POLL_MS = 800;

const $ = (id) => document.getElementById(id);
const state = { lines: [], customers: [], prefix: '0000', chat: null, shown: '', timer: null };

/** Builds an element: el('div', { class: 'x', dataset: { from: 'router' } }, 'text', child…). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'onclick') node.addEventListener('click', value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const res = await fetch(path, {
    ...options,
    headers: {
      authorization: `Bearer ${token}`,
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  if (res.status === 401 || res.status === 429) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(res.status === 429 ? 'Demasiados intentos: esperá un minuto.' : 'Token incorrecto.');
    throw new Error('unauthorized');
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((body.error && body.error.message) || `HTTP ${res.status}`);
  return body;
}

function showLogin(message) {
  stopPolling();
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').hidden = !message;
  $('login-error').textContent = message || '';
  $('token').focus();
}

function status(text) {
  $('status').textContent = text;
}

// ---- setup: lines and test customers -------------------------------------------------------

function savedCustomers() {
  try {
    return JSON.parse(sessionStorage.getItem(CUSTOMERS_KEY) || '[]');
  } catch {
    return [];
  }
}

async function start() {
  const setup = await api('/admin/sandbox/api/setup');
  state.lines = setup.lines;
  state.prefix = setup.prefix;
  state.customers = [...setup.customers, ...savedCustomers()];
  $('line').replaceChildren(...state.lines.map((l) => el('option', { value: l.code }, `${l.name} (${l.code})`)));
  fillCustomers();
  $('login').hidden = true;
  $('app').hidden = false;
  selectionChanged();
}

function fillCustomers(selected) {
  $('customer').replaceChildren(
    ...state.customers.map((c) => el('option', { value: c.phone }, `${c.name} · +${c.phone}`)),
  );
  if (selected) $('customer').value = selected;
}

function currentLine() {
  return state.lines.find((l) => l.code === $('line').value);
}

function currentCustomer() {
  return state.customers.find((c) => c.phone === $('customer').value);
}

function newCustomer() {
  const digits = String(Math.floor(Math.random() * 1e7)).padStart(7, '0');
  const customer = { phone: `${state.prefix}${digits}`, name: `Cliente ${digits.slice(-4)}` };
  const saved = [...savedCustomers(), customer];
  sessionStorage.setItem(CUSTOMERS_KEY, JSON.stringify(saved));
  state.customers.push(customer);
  fillCustomers(customer.phone);
  selectionChanged();
}

function selectionChanged() {
  const line = currentLine();
  $('line-name').textContent = line ? line.name : '—';
  state.shown = '';
  state.chat = null;
  $('chat').replaceChildren();
  startPolling();
}

// ---- sending: what the customer types or taps ----------------------------------------------

async function send(input, contextWamid) {
  const line = currentLine();
  const customer = currentCustomer();
  if (!line || !customer) return;
  status('Enviando…');
  try {
    await api('/admin/sandbox/api/messages', {
      method: 'POST',
      body: JSON.stringify({ line: line.code, customer, input, contextWamid: contextWamid || null }),
    });
    status('');
    refresh();
  } catch (err) {
    if (err.message !== 'unauthorized') status(`No se pudo enviar: ${err.message}`);
  }
}

async function resetConversation() {
  if (!state.chat || !state.chat.conversation) return;
  await api(`/admin/conversations/${state.chat.conversation.id}/reset`, { method: 'POST' });
  status('Conversación reiniciada: el próximo mensaje recibe el menú principal.');
  refresh();
}

// ---- polling and rendering -----------------------------------------------------------------

function startPolling() {
  stopPolling();
  refresh();
  state.timer = setInterval(refresh, POLL_MS);
}

function stopPolling() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

async function refresh() {
  const line = currentLine();
  const customer = currentCustomer();
  if (!line || !customer) return;
  try {
    const query = new URLSearchParams({ line: line.code, phone: customer.phone });
    const chat = await api(`/admin/sandbox/api/chat?${query}`);
    const json = JSON.stringify(chat);
    if (json === state.shown) return;
    state.shown = json;
    state.chat = chat;
    render(chat);
  } catch (err) {
    if (err.message !== 'unauthorized') status(`Sin conexión con el router: ${err.message}`);
  }
}

function render(chat) {
  const box = $('chat');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...chat.messages.map(renderMessage));
  if (atBottom || box.dataset.count !== String(chat.messages.length)) box.scrollTop = box.scrollHeight;
  box.dataset.count = String(chat.messages.length);
  renderPanel(chat);
}

const TICKS = { enviado: '✓✓', omitido: '✓', pendiente: '🕓', enviando: '🕓', fallido: '⚠ no enviado' };

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
}

function renderMessage(item) {
  const bubble = el('div', { class: 'msg', dataset: { from: item.from, testid: 'message' } });
  if (item.from === 'router' && item.payload) renderPayload(bubble, item);
  else bubble.append(el('div', { class: 'body' }, item.text || ''));
  const ticks = item.from === 'router' ? ` ${TICKS[item.estado] || item.estado || ''}` : '';
  bubble.append(el('div', { class: 'meta' }, `${time(item.at)}${ticks}`));
  return bubble;
}

/** A router reply as WhatsApp shows it: text, or an interactive list or reply buttons to tap. */
function renderPayload(bubble, item) {
  const p = item.payload;
  if (p.type === 'text') {
    bubble.append(el('div', { class: 'body' }, (p.text && p.text.body) || ''));
    return;
  }
  if (p.type !== 'interactive' || !p.interactive) {
    const label = p.type === 'template' && p.template ? `Plantilla: ${p.template.name}` : `[${p.type}]`;
    bubble.append(el('div', { class: 'body' }, item.text || label));
    return;
  }
  const it = p.interactive;
  if (it.header && it.header.text) bubble.append(el('div', { class: 'header' }, it.header.text));
  if (it.body && it.body.text) bubble.append(el('div', { class: 'body' }, it.body.text));
  if (it.footer && it.footer.text) bubble.append(el('div', { class: 'footer' }, it.footer.text));
  const actions = el('div', { class: 'actions' });
  if (it.type === 'list') {
    const label = `☰ ${(it.action && it.action.button) || 'Ver opciones'}`;
    actions.append(
      el('button', { type: 'button', dataset: { testid: 'list-button' }, onclick: () => openList(item) }, label),
    );
  } else if (it.type === 'button') {
    for (const b of (it.action && it.action.buttons) || []) {
      const reply = b.reply || {};
      actions.append(
        el(
          'button',
          {
            type: 'button',
            dataset: { testid: 'reply-button', id: reply.id },
            onclick: () => send({ kind: 'button_reply', id: reply.id, title: reply.title }, item.wamid),
          },
          reply.title,
        ),
      );
    }
  }
  if (actions.childElementCount > 0) bubble.append(actions);
}

function openList(item) {
  const it = item.payload.interactive;
  $('sheet-title').textContent = (it.action && it.action.button) || 'Opciones';
  const rows = [];
  for (const section of (it.action && it.action.sections) || []) {
    if (section.title) rows.push(el('div', { class: 'section' }, section.title));
    for (const row of section.rows || []) {
      rows.push(
        el(
          'button',
          {
            type: 'button',
            class: 'row',
            dataset: { testid: 'list-row', id: row.id },
            onclick: () => {
              closeList();
              send({ kind: 'list_reply', id: row.id, title: row.title, description: row.description }, item.wamid);
            },
          },
          row.title,
          row.description ? el('small', {}, row.description) : null,
        ),
      );
    }
  }
  $('sheet-rows').replaceChildren(...rows);
  $('sheet').hidden = false;
}

function closeList() {
  $('sheet').hidden = true;
}

function setField(testid, value) {
  document.querySelector(`[data-testid="${testid}"]`).textContent =
    value === null || value === undefined ? '—' : String(value);
}

function renderPanel(chat) {
  const c = chat.conversation;
  setField('conv-estado', c && c.estado);
  setField('conv-router-estado', c && c.router_estado);
  setField('conv-menu', c && (c.menu_nombre || c.menu_actual));
  setField('conv-area', c && c.area);
  setField('conv-sandbox', c ? (c.sandbox ? 'sí (marcada para el CRM)' : 'no') : null);
  const t = chat.ticket;
  setField('ticket-id', t && t.ticket_id);
  setField('ticket-area', t && t.area);
  setField('ticket-estado', t && t.estado);
  setField('ticket-motivo', t && [t.motivo, t.subetiqueta].filter(Boolean).join(' · '));
  const list = chat.notifications.map((n) =>
    el(
      'li',
      { dataset: { testid: 'notification', estado: n.estado } },
      el('div', {}, `${n.event || 'mensaje'} → ${n.area || '¿área?'}${n.ticket ? ` · ${n.ticket}` : ''}`),
      el(
        'div',
        { class: 'when' },
        `${time(n.at)} · ${n.estado === 'enviado' ? 'capturada (sandbox)' : n.estado}${n.error ? ` · ${n.error}` : ''}`,
      ),
    ),
  );
  $('notifications').replaceChildren(...(list.length > 0 ? list : [el('li', { class: 'when' }, 'Ninguna todavía')]));
}

// ---- wiring --------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    start().catch((err) => {
      if (err.message !== 'unauthorized') showLogin(err.message);
    });
  });
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('text').value.trim();
    if (!text) return;
    $('text').value = '';
    send({ kind: 'text', text });
  });
  $('line').addEventListener('change', selectionChanged);
  $('customer').addEventListener('change', selectionChanged);
  $('new-customer').addEventListener('click', newCustomer);
  $('reset').addEventListener('click', () => resetConversation().catch((err) => status(err.message)));
  $('sheet-close').addEventListener('click', closeList);
  if (sessionStorage.getItem(TOKEN_KEY)) start().catch(() => undefined);
  else showLogin('');
});
