// Live logs of one function: the newest entries, then every 2 s whatever is newer (by seq).

import { api, enc } from './api.js';
import { $, h, ms, when } from './dom.js';

const POLL_MS = 2000;
const SHOWN = 100;
let timer;
let fn;
let lastSeq = 0;

function entry(e) {
  return h(
    'div',
    { class: 'log-entry', 'data-seq': e.seq },
    h(
      'div',
      {},
      h('span', { class: 'mono' }, `#${e.seq}`),
      ' ',
      when(e.at),
      ' · ',
      h('span', { class: e.status >= 400 ? 'error' : 'good' }, String(e.status)),
      ` · ${ms(e.durationMs)} · ${e.version}`,
      e.cold ? ' · cold' : '',
      e.caller ? ` · called by ${e.caller}` : '',
    ),
    e.error ? h('div', { class: 'error' }, `${e.error.code}: ${e.error.message}`) : '',
    e.lines.length
      ? h('pre', { class: 'lines' }, ...e.lines.map((l) => h('div', { class: `line-${l.stream}` }, `[${l.stream}] ${l.message}`)), e.truncated ? h('div', { class: 'muted' }, '… more lines were not kept') : '')
      : '',
  );
}

async function poll() {
  if (!fn) return;
  const asked = fn;
  const page = await api('GET', `/functions/${enc(asked)}/logs?limit=${SHOWN}`);
  // Another function was chosen while this answer was on its way: it belongs to nobody now.
  if (asked !== fn) return;
  const fresh = page.invocations.filter((e) => e.seq > lastSeq);
  const list = $('#log-entries');
  // Newest on top.
  for (const e of fresh) list.prepend(entry(e));
  while (list.children.length > SHOWN) list.lastChild.remove();
  if (fresh.length) lastSeq = fresh[fresh.length - 1].seq;
  if (list.children.length === 0) list.replaceChildren(h('p', { class: 'muted', id: 'log-empty' }, 'No invocations yet.'));
  else $('#log-empty')?.remove();
  $('#log-state').textContent = `updated ${new Date().toLocaleTimeString()}`;
}

function schedule() {
  clearTimeout(timer);
  if (!$('#log-live').checked || $('#logs').hidden) return;
  timer = setTimeout(() => poll().then(schedule, (err) => (($('#log-state').textContent = err.message), schedule())), POLL_MS);
}

async function choose(name) {
  fn = name;
  lastSeq = 0;
  $('#log-entries').replaceChildren();
  await poll();
  schedule();
}

export async function showLogs() {
  const { functions } = await api('GET', '/functions');
  const select = $('#log-function');
  const keep = fn && functions.some((f) => f.name === fn) ? fn : functions[0]?.name;
  select.replaceChildren(...functions.map((f) => h('option', { value: f.name, selected: f.name === keep }, f.name)));
  if (!keep) {
    fn = undefined;
    $('#log-entries').replaceChildren(h('p', { class: 'muted' }, 'No functions deployed.'));
    return;
  }
  await choose(keep);
}

export function stopLogs() {
  clearTimeout(timer);
}

export function setUpLogs() {
  $('#log-function').addEventListener('change', (event) => choose(event.target.value));
  $('#log-live').addEventListener('change', () => (poll(), schedule()));
}
