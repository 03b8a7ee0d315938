// The KV browser: keygroups, their items with every sibling and its version, paging, and writes
// (set on a mutable keygroup, append under a new id on an append-only one), deletes.

import { api, enc } from './api.js';
import { $, field, h, rows, say } from './dom.js';

const PAGE = 50;
let current;
let next;

export async function showKeygroups() {
  const { keygroups } = await api('GET', '/keygroups');
  rows(
    $('#keygroup-table'),
    keygroups.length
      ? keygroups.map((k) =>
          h(
            'tr',
            { class: `selectable${k.name === current?.name ? ' selected' : ''}`, 'data-keygroup': k.name, onclick: () => openKeygroup(k.name) },
            h('td', {}, k.name),
            h('td', {}, k.mutable ? 'mutable' : h('span', { class: 'badge' }, 'append-only')),
            h('td', {}, k.expiry ? `${k.expiry} s` : 'never'),
          ),
        )
      : [h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No keygroups yet.'))],
  );
  if (current && keygroups.some((k) => k.name === current.name)) await openKeygroup(current.name);
}

function itemRow(item) {
  const many = item.siblings.length > 1;
  return h(
    'tr',
    { 'data-id': item.id },
    h('td', { class: 'mono' }, item.id, many ? h('div', { class: 'badge bad', title: 'concurrent writes: every sibling is kept until one write supersedes them' }, `${item.siblings.length} siblings`) : ''),
    h('td', {}, ...item.siblings.map((s) => h('pre', { class: 'value' }, s.value))),
    h('td', { class: 'mono' }, ...item.siblings.map((s) => h('div', {}, JSON.stringify(s.version)))),
    h(
      'td',
      {},
      current.mutable ? h('button', { type: 'button', class: 'small', onclick: () => edit(item) }, 'Edit') : '',
      ' ',
      current.mutable ? h('button', { type: 'button', class: 'small danger', onclick: () => remove(item.id) }, 'Delete') : '',
    ),
  );
}

async function openKeygroup(name) {
  const page = await api('GET', `/keygroups/${enc(name)}/items?count=${PAGE}`);
  current = { name, mutable: page.mutable };
  next = page.next;
  for (const row of $('#keygroup-table').tBodies[0].rows) row.classList.toggle('selected', row.dataset.keygroup === name);
  $('#keygroup-detail').hidden = false;
  $('#keygroup-name').textContent = name;
  $('#keygroup-kind').textContent = page.mutable
    ? 'Mutable: items are set and deleted; concurrent writes on different nodes are kept as siblings.'
    : 'Append-only: each value is appended under a new decimal id and never changes or goes away.';
  $('#item-form-title').textContent = page.mutable ? 'Put an item' : 'Append an item';
  field($('#item-form'), 'id').placeholder = page.mutable ? 'id' : 'a new decimal id, e.g. 1';
  rows($('#item-table'), page.items.length ? page.items.map(itemRow) : [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No items.'))]);
  $('#items-more').hidden = next === undefined;
}

async function more() {
  const page = await api('GET', `/keygroups/${enc(current.name)}/items?count=${PAGE}&start=${enc(next)}`);
  next = page.next;
  $('#item-table').tBodies[0].append(...page.items.map(itemRow));
  $('#items-more').hidden = next === undefined;
}

function edit(item) {
  const form = $('#item-form');
  field(form, 'id').value = item.id;
  field(form, 'value').value = item.siblings[item.siblings.length - 1]?.value ?? '';
  field(form, 'value').focus();
}

async function save(event) {
  event.preventDefault();
  const form = event.target;
  const id = field(form, 'id').value.trim();
  try {
    const written = await api('PUT', `/keygroups/${enc(current.name)}/items/${enc(id)}`, { body: field(form, 'value').value, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    say($('#item-message'), `${written.appended ? 'Appended' : 'Saved'} ${id}${written.version ? ` at ${JSON.stringify(written.version)}` : ''}${written.replicationError ? ` (replication: ${written.replicationError})` : ''}`);
    field(form, 'value').value = '';
    await openKeygroup(current.name);
  } catch (err) {
    say($('#item-message'), err.message, false);
  }
}

async function remove(id) {
  if (!confirm(`Delete ${id} from ${current.name}?`)) return;
  try {
    await api('DELETE', `/keygroups/${enc(current.name)}/items/${enc(id)}`);
    say($('#item-message'), `Deleted ${id}`);
    await openKeygroup(current.name);
  } catch (err) {
    say($('#item-message'), err.message, false);
  }
}

export function setUpKeygroups() {
  $('#item-form').addEventListener('submit', save);
  $('#items-more').addEventListener('click', () => more().catch((err) => say($('#item-message'), err.message, false)));
}
