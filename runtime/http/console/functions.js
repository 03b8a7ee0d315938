// Functions: the list, a function's versions with rollback, deploy from a .wasm file, invoke with
// a body, delete.

import { api, enc } from './api.js';
import { $, bytes, field, h, ms, rows, say, when } from './dom.js';

let selected;

export async function showFunctions() {
  const { functions } = await api('GET', '/functions');
  rows(
    $('#function-table'),
    functions.map((f) =>
      h(
        'tr',
        { class: `selectable${f.name === selected ? ' selected' : ''}`, 'data-name': f.name, onclick: () => selectFunction(f.name) },
        h('td', {}, f.name),
        h('td', {}, f.version),
        h('td', {}, f.keygroup ?? ''),
        h('td', { class: 'num' }, bytes(f.size)),
        h('td', {}, when(f.deployedAt)),
      ),
    ),
  );
  if (functions.length === 0) rows($('#function-table'), [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No functions yet: deploy one.'))]);
  if (selected && functions.some((f) => f.name === selected)) await showDetail(selected);
  else $('#function-detail').hidden = true;
  return functions;
}

async function selectFunction(name) {
  selected = name;
  $('#invoke-result').hidden = true;
  $('#detail-message').textContent = '';
  for (const row of $('#function-table').tBodies[0].rows) row.classList.toggle('selected', row.dataset.name === name);
  await showDetail(name);
}

async function showDetail(name) {
  const f = await api('GET', `/functions/${enc(name)}`);
  $('#function-detail').hidden = false;
  $('#detail-name').textContent = f.name;
  $('#detail-stats').textContent = `${f.stats.invocations} calls, ${f.stats.errors} errors, ${f.stats.coldStarts} cold starts, mean ${ms(f.stats.meanMs)}`;
  rows(
    $('#version-table'),
    [...f.versions].reverse().map((v) =>
      h(
        'tr',
        { 'data-version': v.id },
        h('td', {}, v.id, ' ', v.id === f.active ? h('span', { class: 'badge' }, 'active') : ''),
        h('td', { class: 'mono', title: v.digest }, v.digest.slice(0, 12)),
        h('td', { class: 'num' }, bytes(v.size)),
        h('td', {}, when(v.deployedAt)),
        h('td', {}, v.id === f.active ? '' : h('button', { type: 'button', class: 'small', onclick: () => rollback(name, v.id) }, `Roll back to ${v.id}`)),
      ),
    ),
  );
}

async function rollback(name, version) {
  try {
    const result = await api('POST', `/functions/${enc(name)}/rollback`, { body: JSON.stringify({ version }), headers: { 'content-type': 'application/json' } });
    say($('#detail-message'), `${name} now runs ${result.version}`);
    await showFunctions();
  } catch (err) {
    say($('#detail-message'), err.message, false);
  }
}

async function deploy(event) {
  event.preventDefault();
  const form = event.target;
  const file = field(form, 'file').files[0];
  const name = field(form, 'name').value.trim();
  const query = new URLSearchParams();
  if (field(form, 'keygroup').value.trim()) query.set('keygroup', field(form, 'keygroup').value.trim());
  if (field(form, 'immutable').checked) query.set('immutable', 'true');
  const result = $('#deploy-result');
  say(result, `Deploying ${name} (${bytes(file.size)})…`);
  try {
    const deployed = await api('PUT', `/functions/${enc(name)}${query.size ? `?${query}` : ''}`, {
      body: await file.arrayBuffer(),
      headers: { 'content-type': 'application/wasm' },
    });
    say(result, deployed.unchanged ? `${name} ${deployed.version}: unchanged` : `Deployed ${name} ${deployed.version}`);
    selected = name;
    await showFunctions();
  } catch (err) {
    say(result, err.message, false);
  }
}

/** Invocations are the function's own business: they carry no admin token (the function would see it). */
async function invoke(event) {
  event.preventDefault();
  const form = event.target;
  const method = field(form, 'method').value;
  let path = field(form, 'path').value.trim();
  if (path && !path.startsWith('/') && !path.startsWith('?')) path = `/${path}`;
  const started = performance.now();
  const res = await fetch(`/fn/${enc(selected)}${path}`, { method, body: method === 'GET' ? undefined : field(form, 'body').value });
  const text = await res.text();
  const took = performance.now() - started;
  $('#invoke-result').hidden = false;
  $('#invoke-status').textContent = `${res.status} ${res.statusText}`;
  $('#invoke-status').className = res.ok ? 'good' : 'error';
  const meta = [`${ms(took)}`];
  if (res.headers.get('x-enoki-version')) meta.push(`version ${res.headers.get('x-enoki-version')}`);
  if (res.headers.get('x-enoki-cold-start') === '1') meta.push('cold start');
  if (res.headers.get('x-enoki-error-code')) meta.push(res.headers.get('x-enoki-error-code'));
  $('#invoke-meta').textContent = meta.join(' · ');
  $('#invoke-body').textContent = text;
  await showDetail(selected);
}

async function remove() {
  if (!selected || !confirm(`Delete ${selected}? Its keygroup's data stays.`)) return;
  try {
    await api('DELETE', `/functions/${enc(selected)}`);
    say($('#deploy-result'), `Deleted ${selected}`);
    selected = undefined;
    await showFunctions();
  } catch (err) {
    say($('#detail-message'), err.message, false);
  }
}

export function setUpFunctions() {
  $('#deploy-form').addEventListener('submit', deploy);
  $('#invoke-form').addEventListener('submit', (event) => invoke(event).catch((err) => say($('#detail-message'), err.message, false)));
  $('#delete-function').addEventListener('click', remove);
}
