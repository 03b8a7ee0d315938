// The cluster view from GET /cluster: peers (reachable, pending writes, lag) and keygroup members.

import { api } from './api.js';
import { $, h, ms, rows } from './dom.js';

export async function showCluster() {
  const c = await api('GET', '/cluster');
  $('#cluster-mode').textContent =
    c.mode === 'standalone' ? `Node ${c.nodeId} runs standalone: its keygroups live only here.` : `Node ${c.nodeId} in a cluster (naming service: etcd).`;
  $('#cluster-problems').replaceChildren(...c.problems.map((p) => h('li', {}, p)));
  rows(
    $('#peer-table'),
    c.peers.length
      ? c.peers.map((p) =>
          h(
            'tr',
            { 'data-peer': p.nodeId },
            h('td', {}, p.nodeId),
            h('td', { class: 'mono' }, p.address ?? 'unknown'),
            h('td', {}, h('span', { class: p.reachable ? 'good' : 'error' }, p.reachable ? 'yes' : 'no')),
            h('td', { class: 'num' }, `${p.pending}${p.pendingCapped ? '+' : ''}`),
            h('td', { class: 'num' }, p.pending ? ms(p.lagMs) : 'in sync'),
          ),
        )
      : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No peers.'))],
  );
  rows(
    $('#member-table'),
    c.keygroups.map((k) =>
      h(
        'tr',
        { 'data-keygroup': k.name },
        h('td', {}, k.name),
        h('td', {}, k.mutable ? 'mutable' : 'append-only'),
        h('td', {}, k.members.map((m) => `${m.nodeId}${m.nodeId === c.nodeId ? ' (this node)' : ''}${m.expiry ? ` expiry ${m.expiry} s` : ''}`).join(', ')),
      ),
    ),
  );
}
