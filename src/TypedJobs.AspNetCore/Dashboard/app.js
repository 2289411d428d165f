// TypedJobs dashboard: plain JavaScript over the admin API (api/…, relative to this page). Every value from the server
// is put into the page with textContent or as an attribute value, never parsed as HTML, so a payload or an error
// containing markup shows as text. The Content-Security-Policy forbids inline scripts as a second line of defence.
'use strict';

(function () {
  const STATES = ['Scheduled', 'Ready', 'Running', 'Succeeded', 'Dead', 'Cancelled'];
  const view = document.getElementById('view');
  const banner = document.getElementById('banner');
  const updated = document.getElementById('updated');
  let info = { title: 'TypedJobs', readOnly: true, textSearch: false, recordEvents: false, antiforgery: true, refreshMilliseconds: 2000 };
  let live = true;
  let timer = 0;
  let refresh = null;     // the current view's refresh function
  let generation = 0;     // bumps on every navigation, so late answers for an old view are dropped
  let token = null;

  // ---- DOM helpers ----
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const svgNs = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    const node = document.createElementNS(svgNs, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'text') node.textContent = value; else node.setAttribute(key, String(value));
    }
    return node;
  }
  function badge(state) { return el('span', { class: 'badge state-' + state, 'data-state': state, text: state }); }
  function time(value) { return value ? new Date(value).toLocaleString() : '–'; }
  function ago(seconds) {
    if (seconds < 1) return 'just now';
    if (seconds < 90) return Math.round(seconds) + ' s ago';
    if (seconds < 5400) return Math.round(seconds / 60) + ' min ago';
    return Math.round(seconds / 3600) + ' h ago';
  }
  function number(n) { return Number(n).toLocaleString(); }
  function progressBar(value, message) {
    const pct = Math.round((value || 0) * 100);
    const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct, title: pct + '%' },
      el('div', { class: 'bar' }));
    bar.firstChild.style.width = pct + '%';
    return el('div', { class: 'progress-cell' }, bar, el('span', { class: 'muted progress-text', text: pct + '%' + (message ? ' — ' + message : '') }));
  }
  function table(headers, rows, empty) {
    const head = el('thead', {}, el('tr', {}, headers.map(h => el('th', { class: h.num ? 'num' : (h.narrow ? 'hide-narrow' : null), text: h.label || h }))));
    const body = el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: headers.length, class: 'muted', text: empty || 'Nothing here.' })));
    return el('div', { class: 'table-wrap' }, el('table', {}, head, body));
  }

  // ---- API ----
  async function api(path, options) {
    const response = await fetch('api/' + path, Object.assign({ credentials: 'same-origin', headers: { Accept: 'application/json' } }, options || {}));
    if (response.status === 401) throw new Error('You are signed out: reload the page to sign in again.');
    if (response.status === 403 && !(response.headers.get('content-type') || '').includes('json')) throw new Error('You are not allowed to use this dashboard.');
    const type = response.headers.get('content-type') || '';
    const body = type.includes('json') ? await response.json() : null;
    if (!response.ok) {
      const problem = body || {};
      const error = new Error((problem.title || ('HTTP ' + response.status)) + (problem.detail ? ' ' + problem.detail : ''));
      error.status = response.status;
      throw error;
    }
    return body;
  }
  async function antiforgery(renew) {
    if (!info.antiforgery) return null;
    if (!token || renew) token = await api('antiforgery');
    return token;
  }
  async function post(path, body, retried) {
    const t = await antiforgery(false);
    const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    if (t && t.headerName) headers[t.headerName] = t.token;
    try {
      return await api(path, { method: 'POST', headers, body: JSON.stringify(body || {}) });
    } catch (e) {
      if (!retried && e.status === 400 && /antiforgery/i.test(e.message)) { token = null; return post(path, body, true); }
      throw e;
    }
  }
  // Reads a newline-delimited JSON progress stream (bulk actions).
  async function postStream(path, body, onLine) {
    const t = await antiforgery(false);
    const headers = { Accept: 'application/x-ndjson, application/json', 'Content-Type': 'application/json' };
    if (t && t.headerName) headers[t.headerName] = t.token;
    const response = await fetch('api/' + path, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body) });
    if (!response.ok) {
      const problem = (response.headers.get('content-type') || '').includes('json') ? await response.json() : {};
      throw new Error((problem.title || ('HTTP ' + response.status)) + (problem.detail ? ' ' + problem.detail : ''));
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) onLine(JSON.parse(line));
      }
    }
  }
  function showError(error) {
    banner.textContent = error && error.message ? error.message : String(error);
    banner.hidden = false;
  }
  function clearError() { banner.hidden = true; banner.textContent = ''; }

  // ---- dialog ----
  const dialog = {
    root: document.getElementById('dialog'), title: document.getElementById('dialog-title'), text: document.getElementById('dialog-text'),
    ok: document.getElementById('dialog-ok'), cancel: document.getElementById('dialog-cancel'),
    progress: document.getElementById('dialog-progress'), status: document.getElementById('dialog-status'),
  };
  // Asks for confirmation; run(report) does the work while the dialog shows its progress.
  function confirmAction(title, text, okLabel, run) {
    dialog.title.textContent = title;
    dialog.text.textContent = text;
    dialog.ok.textContent = okLabel;
    dialog.status.textContent = '';
    dialog.progress.hidden = true;
    dialog.ok.disabled = false;
    dialog.cancel.disabled = false;
    dialog.cancel.textContent = 'Cancel';
    dialog.root.hidden = false;
    dialog.ok.focus();
    return new Promise(resolve => {
      const close = value => { dialog.root.hidden = true; dialog.ok.onclick = null; dialog.cancel.onclick = null; resolve(value); };
      dialog.cancel.onclick = () => close(false);
      dialog.ok.onclick = async () => {
        dialog.ok.disabled = true;
        dialog.cancel.disabled = true;
        const report = (done, total, message) => {
          dialog.progress.hidden = false;
          dialog.progress.firstElementChild.style.width = (total ? Math.min(100, 100 * done / total) : 100) + '%';
          dialog.status.textContent = message || (number(done) + ' of ' + number(total));
        };
        try {
          await run(report);
          close(true);
        } catch (e) {
          dialog.status.textContent = e.message;
          dialog.cancel.disabled = false;
          dialog.cancel.textContent = 'Close';
        }
      };
    });
  }

  // ---- live refresh ----
  function schedule() {
    clearTimeout(timer);
    if (live && !document.hidden && refresh) timer = setTimeout(tick, info.refreshMilliseconds);
  }
  async function tick() {
    const g = generation;
    if (!refresh) return;
    try {
      await refresh();
      if (g !== generation) return;
      clearError();
      updated.textContent = 'Updated ' + new Date().toLocaleTimeString() + (live ? '' : ' (live refresh paused)');
    } catch (e) {
      if (g === generation) showError(e);
    }
    if (g === generation) schedule();
  }
  const liveButton = document.getElementById('live');
  liveButton.addEventListener('click', () => {
    live = !live;
    liveButton.setAttribute('aria-pressed', String(live));
    liveButton.textContent = live ? 'Live' : 'Paused';
    if (live) tick(); else { clearTimeout(timer); updated.textContent += ' (live refresh paused)'; }
  });
  document.addEventListener('visibilitychange', () => { if (!document.hidden && live) tick(); });

  // ---- theme ----
  const themeButton = document.getElementById('theme');
  function applyTheme(theme) {
    if (theme === 'light' || theme === 'dark') document.documentElement.setAttribute('data-theme', theme);
    else document.documentElement.removeAttribute('data-theme');
    themeButton.textContent = 'Theme: ' + (theme || 'auto');
  }
  let theme = localStorage.getItem('typedjobs-theme') || '';
  applyTheme(theme);
  themeButton.addEventListener('click', () => {
    theme = theme === '' ? 'light' : theme === 'light' ? 'dark' : '';
    if (theme) localStorage.setItem('typedjobs-theme', theme); else localStorage.removeItem('typedjobs-theme');
    applyTheme(theme);
  });

  // ---- routing ----
  function route() {
    const hash = location.hash.replace(/^#/, '') || '/';
    const [path, query] = hash.split('?');
    const params = new URLSearchParams(query || '');
    const parts = path.split('/').filter(Boolean);
    generation++;
    clearTimeout(timer);
    refresh = null;
    clearError();
    let section = parts[0] || 'overview';
    if (section === 'jobs' && parts[1]) renderJob(decodeURIComponent(parts[1]));
    else if (section === 'jobs') renderJobs(params);
    else if (section === 'queues') renderQueues();
    else if (section === 'schedules') renderSchedules();
    else if (section === 'workers') renderWorkers();
    else if (section === 'enqueue' && !info.readOnly) renderEnqueue(params);
    else { section = 'overview'; renderOverview(); }
    for (const link of document.querySelectorAll('nav a')) link.classList.toggle('active', link.dataset.nav === section);
    tick();
  }
  function setView(...children) { view.replaceChildren(...children); }
  function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }

  // ---- overview ----
  function renderOverview() {
    const cards = el('div', { class: 'cards' });
    const summary = el('p', { class: 'muted' });
    const chart = el('div', { class: 'chart panel' });
    setView(el('h1', { text: 'Overview' }), cards, summary,
      el('h2', { text: 'Throughput (last 60 minutes)' }),
      el('div', { class: 'legend' }, el('span', {}, el('i', { class: 'legend-s' }), 'succeeded'), el('span', {}, el('i', { class: 'legend-f' }), 'failed')),
      chart);
    for (const i of view.querySelectorAll('.legend-s')) i.style.background = 'var(--ok)';
    for (const i of view.querySelectorAll('.legend-f')) i.style.background = 'var(--danger)';
    refresh = async () => {
      const [overview, throughput] = await Promise.all([api('overview'), api('throughput?minutes=60')]);
      cards.replaceChildren(...STATES.map(state => el('a', { class: 'card', href: '#/jobs?state=' + state, 'data-count': state },
        el('div', { class: 'n', text: number(overview.counts[state] || 0) }), el('div', { class: 'l' }, badge(state)))));
      summary.textContent = number(overview.queues) + ' queue(s), ' + number(overview.pausedQueues) + ' paused · ' + number(overview.workers) + ' worker(s) registered';
      drawChart(chart, throughput.buckets);
    };
  }
  function drawChart(container, buckets) {
    const width = 600, height = 180, left = 34, bottom = 18;
    const max = Math.max(1, ...buckets.map(b => b.succeeded + b.failed));
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img' });
    const total = buckets.reduce((a, b) => ({ s: a.s + b.succeeded, f: a.f + b.failed }), { s: 0, f: 0 });
    root.setAttribute('aria-label', `Throughput: ${total.s} succeeded and ${total.f} failed in the last ${buckets.length} minutes`);
    root.append(svg('line', { class: 'axis', x1: left, y1: height - bottom, x2: width, y2: height - bottom }));
    root.append(svg('text', { x: 2, y: 10, text: String(max) }), svg('text', { x: 2, y: height - bottom, text: '0' }));
    const step = (width - left) / Math.max(1, buckets.length);
    const scale = (height - bottom - 6) / max;
    buckets.forEach((b, i) => {
      const x = left + i * step + 1, w = Math.max(1, step - 2);
      const hs = b.succeeded * scale, hf = b.failed * scale;
      const title = `${new Date(b.minute).toLocaleTimeString()}: ${b.succeeded} succeeded, ${b.failed} failed`;
      if (hs > 0) { const r = svg('rect', { class: 's', x, y: height - bottom - hs, width: w, height: hs }); r.append(svg('title', { text: title })); root.append(r); }
      if (hf > 0) { const r = svg('rect', { class: 'f', x, y: height - bottom - hs - hf, width: w, height: hf }); r.append(svg('title', { text: title })); root.append(r); }
    });
    if (buckets.length) {
      root.append(svg('text', { x: left, y: height - 4, text: new Date(buckets[0].minute).toLocaleTimeString() }));
      root.append(svg('text', { x: width - 60, y: height - 4, text: new Date(buckets[buckets.length - 1].minute).toLocaleTimeString() }));
    }
    container.replaceChildren(root);
  }

  // ---- jobs ----
  const cursors = [];    // cursors of the pages before the current one
  let cursor = null;
  let lastFilterKey = '';
  function filterQuery(params) {
    const q = new URLSearchParams();
    for (const key of ['state', 'queue', 'task', 'text', 'from', 'to']) if (params.get(key)) q.set(key, params.get(key));
    return q;
  }
  function renderJobs(params) {
    const filter = filterQuery(params);
    if (filter.toString() !== lastFilterKey) { cursors.length = 0; cursor = null; lastFilterKey = filter.toString(); }
    const field = (label, input) => el('label', {}, label, input);
    const state = el('select', { name: 'state', 'aria-label': 'State' }, el('option', { value: '', text: 'any state' }), STATES.map(s => el('option', { value: s, text: s })));
    state.value = params.get('state') || '';
    const queue = el('select', { name: 'queue', 'aria-label': 'Queue' }, el('option', { value: '', text: 'any queue' }));
    const task = el('input', { name: 'task', list: 'task-names', placeholder: 'any task', 'aria-label': 'Task', value: params.get('task') || '' });
    const taskList = el('datalist', { id: 'task-names' });
    const text = el('input', { name: 'text', type: 'search', placeholder: info.textSearch ? 'in payload or error' : 'not supported by the store', disabled: !info.textSearch, 'aria-label': 'Text', value: params.get('text') || '' });
    const from = el('input', { name: 'from', type: 'datetime-local', 'aria-label': 'Created from', value: local(params.get('from')) });
    const to = el('input', { name: 'to', type: 'datetime-local', 'aria-label': 'Created before', value: local(params.get('to')) });
    const form = el('form', { class: 'filters', role: 'search', onsubmit: e => {
      e.preventDefault();
      const q = new URLSearchParams();
      if (state.value) q.set('state', state.value);
      if (queue.value) q.set('queue', queue.value);
      if (task.value.trim()) q.set('task', task.value.trim());
      if (text.value.trim()) q.set('text', text.value.trim());
      if (from.value) q.set('from', new Date(from.value).toISOString());
      if (to.value) q.set('to', new Date(to.value).toISOString());
      go('#/jobs' + (q.toString() ? '?' + q : ''));
    } }, field('State', state), field('Queue', queue), field('Task', task), taskList, field('Text', text), field('Created from', from), field('Created before', to),
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'primary', text: 'Filter' }), el('button', { type: 'button', text: 'Clear', onclick: () => go('#/jobs') })));
    const list = el('div');
    const pager = el('div', { class: 'row' });
    const hiddenNote = el('p', { class: 'muted', hidden: true });
    const bulk = el('div', { class: 'row' });
    if (!info.readOnly) {
      bulk.append(el('span', { class: 'muted', text: 'All jobs matching the filter:' }),
        el('button', { type: 'button', text: 'Retry all', 'data-bulk': 'retry', onclick: () => runBulk('retry', filter) }),
        el('button', { type: 'button', text: 'Cancel all', 'data-bulk': 'cancel', onclick: () => runBulk('cancel', filter) }),
        el('button', { type: 'button', class: 'danger', text: 'Delete all', 'data-bulk': 'delete', onclick: () => runBulk('delete', filter) }));
    }
    setView(el('h1', { text: 'Jobs' }), form, bulk, hiddenNote, list, pager);
    Promise.all([api('queues'), api('tasks')]).then(([queues, tasks]) => {
      for (const q of queues) queue.append(el('option', { value: q.name, text: q.name }));
      queue.value = params.get('queue') || '';
      for (const t of tasks) taskList.append(el('option', { value: t.name }));
    }).catch(showError);
    refresh = async () => {
      const q = new URLSearchParams(filter);
      q.set('limit', '50');
      if (cursor) q.set('cursor', cursor);
      const page = await api('jobs?' + q);
      const rows = page.jobs.map(job => el('tr', { 'data-href': '#/jobs/' + job.id, 'data-job-id': job.id, onclick: () => go('#/jobs/' + job.id) },
        el('td', {}, el('a', { href: '#/jobs/' + job.id, text: job.id.slice(0, 8) + '…', title: job.id })),
        el('td', { text: job.task }),
        el('td', { text: job.queue }),
        el('td', {}, badge(job.state)),
        el('td', { class: 'num', text: job.attempt + ' / ' + (job.maxRetries + 1) }),
        el('td', { class: 'hide-narrow', text: time(job.createdAt) }),
        el('td', {}, job.progress !== undefined && job.progress !== null ? progressBar(job.progress, job.progressMessage) : ''),
        el('td', { class: 'error hide-narrow', text: job.lastError || '', title: job.lastError || '' })));
      list.replaceChildren(table(['Id', 'Task', 'Queue', 'State', { label: 'Attempts', num: true }, { label: 'Created', narrow: true }, 'Progress', { label: 'Last error', narrow: true }],
        rows, 'No job matches.'));
      hiddenNote.hidden = !page.hidden;
      hiddenNote.textContent = page.hidden ? page.hidden + ' job(s) on this page matched the text only in hidden or sensitive payload data and are not listed.' : '';
      pager.replaceChildren(
        el('button', { type: 'button', text: '← Newer', disabled: cursors.length === 0, onclick: () => { cursor = cursors.pop() || null; tick(); } }),
        el('button', { type: 'button', text: 'Older →', disabled: !page.nextCursor, onclick: () => { cursors.push(cursor); cursor = page.nextCursor; tick(); } }));
    };
  }
  function local(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return '';
    const pad = n => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  async function runBulk(action, filter) {
    let count;
    try { count = (await api('jobs/count?' + filter)).count; } catch (e) { showError(e); return; }
    const described = filter.toString() ? 'matching ' + decodeURIComponent(filter.toString()).replace(/&/g, ', ') : 'in every queue and state';
    const applies = { retry: 'dead and cancelled ones are retried', cancel: 'unfinished ones are cancelled', delete: 'all are deleted' }[action];
    const body = { action, filter: Object.fromEntries(filter.entries()) };
    await confirmAction(action[0].toUpperCase() + action.slice(1) + ' ' + number(count) + ' job(s)?',
      number(count) + ' job(s) ' + described + ': ' + applies + ', in batches.', action[0].toUpperCase() + action.slice(1) + ' ' + number(count),
      async report => {
        let last = null;
        await postStream('jobs/bulk', body, line => {
          last = line;
          report(line.done, line.total, line.finished ? 'Done: ' + number(line.done) + ' job(s) changed.' : null);
        });
        if (!last || !last.finished || last.error) throw new Error(last && last.error ? last.error : 'The bulk action did not finish.');
      });
    tick();
  }

  // ---- job detail ----
  function renderJob(id) {
    const header = el('div', { class: 'row' });
    const fields = el('dl', { class: 'fields' });
    const progress = el('div');
    const payload = el('pre', { id: 'payload' });
    const payloadNote = el('p', { class: 'muted' });
    const error = el('pre', { id: 'error' });
    const errorSection = el('section', {}, el('h2', { text: 'Last error' }), error);
    const events = el('div');
    setView(el('p', {}, el('a', { href: '#/jobs', text: '← Jobs' })), header,
      el('div', { class: 'grid2' },
        el('section', { class: 'panel' }, el('h2', { text: 'Job' }), fields, progress),
        el('section', { class: 'panel' }, el('h2', { text: 'Payload' }), payloadNote, payload)),
      errorSection, el('h2', { text: 'Events' }), events);
    const act = (label, path, extra, after) => el('button', Object.assign({ type: 'button', text: label, 'data-action': path, onclick: async () => {
      try { await post('jobs/' + encodeURIComponent(id) + '/' + path); if (after) after(); else tick(); } catch (e) { showError(e); }
    } }, extra || {}));
    refresh = async () => {
      let detail;
      try { detail = await api('jobs/' + encodeURIComponent(id)); } catch (e) {
        if (e.status === 404) { header.replaceChildren(el('h1', { text: 'Job ' + id + ' does not exist (any more).' })); refresh = null; return; }
        throw e;
      }
      const job = detail.job;
      const buttons = [];
      if (!info.readOnly) {
        if (job.state === 'Dead' || job.state === 'Cancelled') buttons.push(act('Retry', 'retry', { class: 'primary' }));
        if (!['Succeeded', 'Dead', 'Cancelled'].includes(job.state)) buttons.push(act('Cancel', 'cancel'));
        buttons.push(el('button', { type: 'button', class: 'danger', text: 'Delete', 'data-action': 'delete', onclick: () =>
          confirmAction('Delete this job?', 'Job ' + id + ' and its result are deleted.', 'Delete', async () => {
            await post('jobs/' + encodeURIComponent(id) + '/delete');
            go('#/jobs');
          }) }));
      }
      header.replaceChildren(el('h1', { text: job.task }), badge(job.state), el('span', { class: 'spacer' }), ...buttons);
      const rows = [['Id', job.id], ['Queue', job.queue], ['Priority', job.priority], ['Attempts', job.attempt + ' of ' + (job.maxRetries + 1)],
        ['Created', time(job.createdAt)], ['Due', time(job.dueAt)], ['Started', time(job.startedAt)], ['Finished', time(job.finishedAt)],
        ['Worker', job.workerId || '–'], ['Unique key', detail.uniqueKey || '–'], ['Trace', detail.traceParent || '–']];
      fields.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
      progress.replaceChildren(...(job.progress !== undefined && job.progress !== null ? [el('h2', { text: 'Progress' }), progressBar(job.progress, job.progressMessage)] : []));
      if (detail.payload !== undefined && detail.payload !== null) {
        let pretty = detail.payload;
        try { pretty = JSON.stringify(JSON.parse(detail.payload), null, 2); } catch (_) { /* show as stored */ }
        payload.textContent = pretty;
        payload.hidden = false;
        payloadNote.textContent = detail.payloadRedacted ? 'Members marked [Sensitive] are shown as "***".' : '';
      } else {
        payload.hidden = true;
        payloadNote.textContent = detail.payloadHidden || 'No payload.';
      }
      errorSection.hidden = !job.lastError;
      error.textContent = job.lastError || '';
      if (detail.events) {
        events.replaceChildren(detail.events.length ? el('ol', { class: 'timeline' }, detail.events.map(ev => el('li', { class: 'k-' + ev.kind },
          el('strong', { text: ev.kind }), ' ', el('span', { class: 'muted', text: time(ev.timestamp) + (ev.attempt ? ' · attempt ' + ev.attempt : '') +
            (ev.workerId ? ' · ' + ev.workerId : '') + (ev.durationSeconds !== undefined ? ' · ran ' + ev.durationSeconds.toFixed(2) + ' s' : '') +
            (ev.delaySeconds !== undefined ? ' · next in ' + ev.delaySeconds.toFixed(1) + ' s' : '') }),
          ev.error ? el('pre', { text: ev.error }) : null))) : el('p', { class: 'muted', text: 'No events recorded yet.' }));
      } else {
        events.replaceChildren(el('p', { class: 'muted', text: 'Events are not recorded (set TypedJobs:RecordEvents to true to keep each job\'s history).' }));
      }
    };
  }

  // ---- queues ----
  function renderQueues() {
    const list = el('div');
    setView(el('h1', { text: 'Queues' }), list);
    const act = (name, path, label, extra) => el('button', Object.assign({ type: 'button', text: label, 'data-action': path, onclick: async () => {
      try { await post('queues/' + encodeURIComponent(name) + '/' + path); tick(); } catch (e) { showError(e); }
    } }, extra || {}));
    refresh = async () => {
      const queues = await api('queues');
      list.replaceChildren(table(['Queue', 'Status', ...STATES.map(s => ({ label: s, num: true })), { label: 'Waiting', num: true }, info.readOnly ? '' : 'Actions'],
        queues.map(q => el('tr', { 'data-queue': q.name },
          el('td', {}, el('a', { href: '#/jobs?queue=' + encodeURIComponent(q.name), text: q.name })),
          el('td', {}, q.paused ? el('span', { class: 'badge paused', text: 'Paused' }) : el('span', { class: 'muted', text: 'Active' })),
          ...STATES.map(s => el('td', { class: 'num' }, q.counts[s] ? el('a', { href: '#/jobs?queue=' + encodeURIComponent(q.name) + '&state=' + s, text: number(q.counts[s]) }) : '0')),
          el('td', { class: 'num', text: number(q.length) }),
          el('td', {}, info.readOnly ? '' : el('div', { class: 'row' },
            q.paused ? act(q.name, 'resume', 'Resume', { class: 'primary' }) : act(q.name, 'pause', 'Pause'),
            el('button', { type: 'button', class: 'danger', text: 'Clear', 'data-action': 'clear', onclick: () =>
              confirmAction('Clear queue ' + q.name + '?', number(q.length) + ' waiting job(s) of ' + q.name + ' are deleted; running and finished jobs stay.', 'Clear',
                async report => { const r = await post('queues/' + encodeURIComponent(q.name) + '/clear'); report(r.deleted, r.deleted, 'Deleted ' + number(r.deleted) + ' job(s).'); tick(); }) }))))),
        'No queues yet: queues appear when jobs are enqueued.'));
    };
  }

  // ---- schedules ----
  function renderSchedules() {
    const list = el('div');
    const note = el('p', { class: 'muted' });
    setView(el('h1', { text: 'Schedules' }), note, list);
    const act = (name, path, label, extra) => el('button', Object.assign({ type: 'button', text: label, 'data-action': path, onclick: async () => {
      try {
        const r = await post('schedules/' + encodeURIComponent(name) + '/' + path);
        if (path === 'trigger') note.textContent = r.jobId ? 'Enqueued job ' + r.jobId + '.' : 'The schedule is due now: a worker that knows its task enqueues it.';
        tick();
      } catch (e) { showError(e); }
    } }, extra || {}));
    refresh = async () => {
      const schedules = await api('schedules');
      list.replaceChildren(table(['Schedule', 'Task', 'When', 'Next run', 'Last run', 'Status', info.readOnly ? '' : 'Actions'],
        schedules.map(s => el('tr', { 'data-schedule': s.name },
          el('td', { text: s.name }), el('td', { text: s.task }),
          el('td', {}, el('code', { text: s.kind === 'Cron' ? s.cron + (s.timeZone ? ' (' + s.timeZone + ')' : ' (UTC)') : s.kind === 'Interval' ? 'every ' + s.intervalSeconds + ' s' : 'once' })),
          el('td', { text: time(s.nextRunAt) }), el('td', { text: time(s.lastRunAt) }),
          el('td', {}, s.paused ? el('span', { class: 'badge paused', text: 'Paused' }) : el('span', { class: 'muted', text: 'Active' })),
          el('td', {}, info.readOnly ? '' : el('div', { class: 'row' }, act(s.name, 'trigger', 'Run now'),
            s.paused ? act(s.name, 'resume', 'Resume', { class: 'primary' }) : act(s.name, 'pause', 'Pause'))))),
        'No schedules.'));
    };
  }

  // ---- workers ----
  function renderWorkers() {
    const list = el('div');
    setView(el('h1', { text: 'Workers' }), list);
    refresh = async () => {
      const result = await api('workers');
      list.replaceChildren(table(['Worker', { label: 'Host', narrow: true }, 'Queues', { label: 'Running', num: true }, { label: 'Started', narrow: true }, 'Last heartbeat'],
        result.workers.map(w => el('tr', { 'data-worker': w.id },
          el('td', {}, el('code', { text: w.id })), el('td', { class: 'hide-narrow', text: (w.host || '?') + ' · pid ' + w.processId }),
          el('td', { text: w.queues.join(', ') }), el('td', { class: 'num', text: w.running + ' / ' + w.concurrency }),
          el('td', { class: 'hide-narrow', text: time(w.startedAt) }),
          el('td', {}, el('span', { class: w.secondsSinceHeartbeat > 60 ? 'badge state-Dead' : 'muted', text: ago(w.secondsSinceHeartbeat) })))),
        'No worker is registered.'));
    };
  }

  // ---- enqueue ----
  function renderEnqueue(params) {
    const task = el('select', { name: 'task', required: true, 'aria-label': 'Task' });
    const payload = el('textarea', { name: 'payload', 'aria-label': 'Payload', spellcheck: 'false' });
    payload.value = '{}';
    const queue = el('input', { name: 'queue', placeholder: 'the task\'s queue', 'aria-label': 'Queue' });
    const priority = el('select', { name: 'priority', 'aria-label': 'Priority' }, el('option', { value: '', text: 'the task\'s priority' }),
      ['Low', 'Normal', 'High', 'Critical'].map(p => el('option', { value: p, text: p })));
    const delay = el('input', { name: 'delay', type: 'number', min: '0', step: '1', placeholder: '0', 'aria-label': 'Delay in seconds' });
    const result = el('p', { 'aria-live': 'polite' });
    const form = el('form', { class: 'form panel', onsubmit: async e => {
      e.preventDefault();
      let body;
      try { body = { payload: JSON.parse(payload.value || '{}') }; } catch (_) { result.textContent = 'The payload is not valid JSON.'; return; }
      if (queue.value.trim()) body.queue = queue.value.trim();
      if (priority.value) body.priority = priority.value;
      if (delay.value) body.delaySeconds = Number(delay.value);
      try {
        const r = await post('tasks/' + encodeURIComponent(task.value) + '/enqueue', body);
        result.replaceChildren('Enqueued ', el('a', { href: '#/jobs/' + r.id, text: r.id }), '.');
      } catch (e2) { result.textContent = e2.message; }
    } },
    el('label', {}, 'Task', task), el('label', {}, 'Payload (JSON object keyed by parameter name)', payload),
    el('div', { class: 'filters' }, el('label', {}, 'Queue', queue), el('label', {}, 'Priority', priority), el('label', {}, 'Delay (seconds)', delay)),
    el('div', {}, el('button', { type: 'submit', class: 'primary', text: 'Enqueue' })), result);
    setView(el('h1', { text: 'Enqueue a job' }), el('p', { class: 'muted', text: 'The payload is checked by the task\'s own serializer before the job is stored.' }), form);
    api('tasks').then(tasks => {
      for (const t of tasks) task.append(el('option', { value: t.name, text: t.name + (t.hasSensitiveMembers ? ' (has sensitive members)' : '') }));
      if (params.get('task')) task.value = params.get('task');
    }).catch(showError);
  }

  // ---- start ----
  async function start() {
    try {
      info = await api('info');
    } catch (e) {
      showError(e);
    }
    document.title = info.title;
    document.getElementById('title').textContent = info.title;
    document.getElementById('mode').textContent = info.readOnly ? 'read-only' : '';
    document.getElementById('nav-enqueue').hidden = info.readOnly;
    window.addEventListener('hashchange', route);
    route();
  }
  start();
})();
