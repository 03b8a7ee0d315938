// The console's entry: sign-in, tabs (#functions, #logs, …), and the error line.

import { api, token, whenUnauthorized } from './api.js';
import { showCluster } from './cluster.js';
import { $ } from './dom.js';
import { setUpFunctions, showFunctions } from './functions.js';
import { setUpKeygroups, showKeygroups } from './keygroups.js';
import { setUpLogs, showLogs, stopLogs } from './logs.js';
import { showMetrics, stopMetrics } from './metrics.js';

const TABS = { functions: showFunctions, logs: showLogs, metrics: showMetrics, keygroups: showKeygroups, cluster: showCluster };

function report(err) {
  $('#error').textContent = err ? err.message : '';
}

function signedIn(yes) {
  $('#login').hidden = yes;
  $('#tabs').hidden = !yes;
  $('#sign-out').hidden = !yes;
  if (!yes) {
    for (const section of document.querySelectorAll('section.tab')) section.hidden = true;
    $('#token').focus();
  }
}

async function show() {
  if (!token.get()) return signedIn(false);
  signedIn(true);
  const tab = TABS[location.hash.slice(1)] ? location.hash.slice(1) : 'functions';
  for (const section of document.querySelectorAll('section.tab')) section.hidden = section.id !== tab;
  for (const link of document.querySelectorAll('#tabs a')) link.classList.toggle('active', link.dataset.tab === tab);
  if (tab !== 'logs') stopLogs();
  if (tab !== 'metrics') stopMetrics();
  report();
  try {
    await TABS[tab]();
  } catch (err) {
    report(err);
  }
}

async function signIn(event) {
  event.preventDefault();
  const value = $('#token').value.trim();
  token.set(value);
  try {
    await api('GET', '/functions');
    $('#login-error').textContent = '';
    $('#token').value = '';
    await show();
  } catch (err) {
    token.clear();
    $('#login-error').textContent = err.status === 401 ? 'The node refused this token.' : err.message;
    signedIn(false);
  }
}

function signOut() {
  token.clear();
  stopLogs();
  stopMetrics();
  signedIn(false);
}

whenUnauthorized(() => {
  token.clear();
  signedIn(false);
  $('#login-error').textContent = 'The node refused the token: sign in again.';
});

setUpFunctions();
setUpLogs();
setUpKeygroups();
$('#login-form').addEventListener('submit', signIn);
$('#sign-out').addEventListener('click', signOut);
window.addEventListener('hashchange', show);
api('GET', '/healthz', { auth: false })
  .then((h) => ($('#node-id').textContent = `node ${h.nodeId}`))
  .catch(() => undefined);
show();
