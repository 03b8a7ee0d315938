// Metrics at a glance from GET /metrics.json, refreshed every 5 s while shown.

import { api } from './api.js';
import { $, bytes, h, ms, rows } from './dom.js';

const REFRESH_MS = 5000;
let timer;

export async function showMetrics() {
  clearTimeout(timer);
  const m = await api('GET', '/metrics.json', { auth: false });
  const figure = (label, value) => h('span', {}, `${label} `, h('b', {}, value));
  $('#node-figures').replaceChildren(
    figure('memory (RSS)', bytes(m.node.rssBytes)),
    figure('JS heap', bytes(m.node.heapUsedBytes)),
    figure('warm instances', `${m.node.warmInstances} (${bytes(m.node.warmInstanceMemoryBytes)})`),
    figure('workers busy', `${m.node.workersBusy}/${m.node.workers}`),
    figure('queued', String(m.node.queueLength)),
    figure('up', `${Math.round(m.uptimeSeconds)} s`),
  );
  rows(
    $('#metric-table'),
    m.functions.length
      ? m.functions.map((f) =>
          h(
            'tr',
            { 'data-fn': f.fn },
            h('td', {}, f.fn),
            h('td', { class: 'num' }, String(f.invocations)),
            h('td', { class: `num${f.errors ? ' error' : ''}`, title: Object.entries(f.errorsByCode).map(([c, n]) => `${c}: ${n}`).join('\n') }, String(f.errors)),
            h('td', { class: 'num' }, ms(f.p50Ms)),
            h('td', { class: 'num' }, ms(f.p99Ms)),
            h('td', { class: 'num' }, ms(f.meanMs)),
            h('td', { class: 'num' }, String(f.coldStarts)),
          ),
        )
      : [h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No invocations since the node started.'))],
  );
  timer = setTimeout(() => {
    if (!$('#metrics').hidden) showMetrics().catch(() => undefined);
  }, REFRESH_MS);
}

export function stopMetrics() {
  clearTimeout(timer);
}
