import SwitchboardCore

/// The debug UI's script: a JSON-RPC client over the page's own origin (`/api/current`), and the pages built from
/// the OpenRPC document (`rpc.discover`). Plain JavaScript, no library, nothing fetched from elsewhere.
///
/// The methods the page itself calls are named by `MethodName`, handed to the script as `M` ahead of it, so a
/// renamed method breaks the build here as it does in the dialects, not the page at run time.
enum DebugUIScript {
    static let source = prelude + js

    static var prelude: String {
        let names: JSONObject = [
            "login": .string(MethodName.login), "loginWithAPIKey": .string(MethodName.loginWithAPIKey),
            "logout": .string(MethodName.logout), "me": .string(MethodName.me), "setOptions": .string(MethodName.setOptions),
            "rpcDiscover": .string(MethodName.rpcDiscover), "subscribe": .string(MethodName.subscribe),
            "unsubscribe": .string(MethodName.unsubscribe), "getJobs": .string(MethodName.getJobs),
            "jobAbort": .string(MethodName.jobAbort), "jobLog": .string(MethodName.jobLog),
            "dispatcherList": .string(MethodName.dispatcherList), "dispatcherKill": .string(MethodName.dispatcherKill),
            "pluginQuery": .string(MethodName.pluginQuery), "workerQuery": .string(MethodName.workerQuery),
            "sessions": .string(MethodName.sessions), "logins": JSON(strings: MethodName.logins.sorted()),
        ]
        return "const M = " + JSON.object(names).encodedString() + ";\n"
    }

    static let js = #"""
    'use strict';
    const $ = (id) => document.getElementById(id);
    const el = (tag, attrs = {}, ...children) => {
      const node = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs)) {
        if (k === 'text') node.textContent = v; else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
        else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : v);
      }
      for (const c of children) if (c !== null && c !== undefined) node.append(c);
      return node;
    };
    const json = (v) => JSON.stringify(v, null, 2);

    // ---- the connection: JSON-RPC 2.0 over WebSocket, every frame kept for the Frames page ----
    const state = { ws: null, next: 1, pending: new Map(), doc: null, me: null, roles: [], frames: [], framesPaused: false,
                    eventsPaused: false, events: [], subscriptions: new Map(), jobs: new Map(), settings: {}, current: null };
    function tap(dir, text) {
      state.frames.push({ dir, text, time: new Date().toISOString().slice(11, 23) });
      if (state.frames.length > 500) state.frames.shift();
      if (!state.framesPaused && !$('page-frames').hidden) renderFrames();
    }
    function connect() {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/current');
        ws.onopen = () => { state.ws = ws; resolve(); };
        ws.onerror = () => reject(new Error('cannot connect to ' + location.host));
        ws.onclose = (e) => {
          for (const p of state.pending.values()) p.reject({ message: 'connection closed', data: { reason: e.reason || 'closed' } });
          state.pending.clear();
          if (state.ws === ws && state.me) showLogin('The connection closed (' + (e.code || '') + ' ' + (e.reason || '') + ').');
          state.ws = null;
        };
        ws.onmessage = (e) => {
          tap('in', e.data);
          let msg; try { msg = JSON.parse(e.data); } catch { return; }
          if (msg.id !== undefined && state.pending.has(msg.id)) {
            const p = state.pending.get(msg.id); state.pending.delete(msg.id);
            if (msg.error) p.reject(msg.error); else p.resolve(msg.result);
          } else if (msg.method === 'collection_update') onEvent(msg.params);
          else if (msg.method === 'notify_unsubscribed') onUnsubscribed(msg.params);
        };
      });
    }
    function call(method, params = []) {
      return new Promise((resolve, reject) => {
        if (!state.ws) { reject({ message: 'not connected', data: { reason: 'not connected' } }); return; }
        const id = state.next++;
        state.pending.set(id, { resolve, reject });
        const text = JSON.stringify({ jsonrpc: '2.0', id, method, params });
        // The Frames page never shows a password or key, even the user's own.
        tap('out', M.logins.includes(method) ? JSON.stringify({ jsonrpc: '2.0', id, method, params: params.map(() => '***') }) : text);
        state.ws.send(text);
      });
    }
    const reason = (e) => (e && e.data && (e.data.reason || e.data.errname)) || (e && e.message) || String(e);

    // ---- login and logout ----
    function showLogin(message) {
      $('app-view').hidden = true; $('login-view').hidden = false; $('logout').hidden = true;
      $('whoami').textContent = ''; $('login-error').textContent = message || '';
      state.me = null;
    }
    $('login-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      $('login-error').textContent = '';
      try {
        if (!state.ws) await connect();
        const key = $('login-key').value.trim();
        const ok = key ? await call(M.loginWithAPIKey, [key])
                       : await call(M.login, [$('login-user').value, $('login-password').value, $('login-otp').value.trim() || null]);
        if (ok !== true) { $('login-error').textContent = 'Wrong user name, password, one-time code or key.'; return; }
        $('login-password').value = ''; $('login-key').value = ''; $('login-otp').value = '';
        await call(M.setOptions, [{ legacy_jobs: true }]);
        state.me = await call(M.me);
        state.roles = (state.me.privilege && state.me.privilege.roles) || [];
        state.doc = await call(M.rpcDiscover);
        try { state.settings = await (await fetch('/ui/settings.json')).json(); } catch { state.settings = {}; }
        $('version').textContent = state.doc.info.version;
        $('whoami').textContent = state.me.pw_name + ' (' + (state.roles.join(', ') || 'no roles') + ')';
        $('logout').hidden = false; $('login-view').hidden = true; $('app-view').hidden = false;
        renderMethods();
        show('methods');
      } catch (e) { $('login-error').textContent = reason(e); }
    });
    $('logout').addEventListener('click', async () => {
      try { await call(M.logout); } catch {}
      const ws = state.ws; state.ws = null; if (ws) ws.close();
      state.subscriptions.clear(); state.events = []; state.jobs.clear();
      showLogin('Logged out.');
    });

    // ---- pages ----
    function show(page) {
      for (const b of document.querySelectorAll('nav button')) b.classList.toggle('active', b.dataset.page === page);
      for (const p of document.querySelectorAll('.page')) p.hidden = p.id !== 'page-' + page;
      if (page === 'jobs') loadJobs();
      if (page === 'daemon') loadDaemon();
      if (page === 'frames') renderFrames();
      if (page === 'events') renderEvents();
    }
    for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => show(b.dataset.page));
    const allowed = (roles) => state.roles.includes('FULL_ADMIN') || roles.includes('AUTHENTICATED')
      || roles.some((r) => state.roles.includes(r));
    const visible = (m) => m['x-no-auth-required'] || allowed(m['x-roles'] || []);
    const method = (name) => state.doc.methods.find((m) => m.name === name);
    const can = (name) => { const m = method(name); return !!m && visible(m); };

    // ---- methods: the list, the detail and the call form built from the schemas ----
    function renderMethods() {
      const q = $('method-search').value.trim().toLowerCase();
      const list = $('method-list'); list.replaceChildren();
      for (const m of state.doc.methods.filter(visible)) {
        if (q && !(m.name.toLowerCase().includes(q) || (m.description || '').toLowerCase().includes(q))) continue;
        list.append(el('li', { 'data-method': m.name, class: state.current === m.name ? 'selected' : null, text: m.name,
                               onclick: () => selectMethod(m.name) }));
      }
    }
    $('method-search').addEventListener('input', renderMethods);
    function resolve(schema) {
      let s = schema, guard = 0;
      while (s && typeof s === 'object' && s.$ref && guard++ < 20) {
        const name = s.$ref.replace('#/components/schemas/', '');
        s = Object.assign({}, state.doc.components.schemas[name] || {}, ...Object.entries(s).filter(([k]) => k !== '$ref').map(([k, v]) => ({ [k]: v })));
      }
      return s === true || s === undefined ? {} : s;
    }
    const mainType = (s) => Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') || 'null') : s.type;
    const nullable = (s) => Array.isArray(s.type) && s.type.includes('null');
    // A field: { node, get() -> value or undefined when left empty }.
    function field(schemaIn, path, label, required) {
      const s = resolve(schemaIn);
      const wrap = el('div', { class: 'field', 'data-path': path });
      const title = el('label', { text: (label || path) + (required ? ' *' : '') });
      wrap.append(title);
      if (s.description) wrap.append(el('span', { class: 'hint', text: ' ' + s.description }));
      let get;
      const choices = s.oneOf || s.anyOf;
      if (choices) {
        const chooser = el('select', { 'aria-label': path + ' variant' });
        choices.forEach((c, i) => { const r = resolve(c); chooser.append(el('option', { value: i, text: r.title || mainType(r) || ('variant ' + (i + 1)) })); });
        const holder = el('div');
        let inner;
        const build = () => { inner = field(choices[chooser.value], path, 'value', required); holder.replaceChildren(inner.node); };
        chooser.addEventListener('change', build); build();
        wrap.append(chooser, holder); get = () => inner.get();
      } else if (s.enum) {
        const select = el('select', { name: path, 'aria-label': path });
        if (!required) select.append(el('option', { value: '', text: '(unset)' }));
        s.enum.forEach((v, i) => select.append(el('option', { value: String(i), text: JSON.stringify(v) })));
        wrap.append(select); get = () => select.value === '' ? undefined : s.enum[Number(select.value)];
      } else if (mainType(s) === 'object' && s.properties) {
        const box = el('fieldset'); const parts = [];
        for (const [name, sub] of Object.entries(s.properties)) {
          const f = field(sub, path + '.' + name, name, (s.required || []).includes(name)); parts.push([name, f]); box.append(f.node);
        }
        wrap.append(box);
        get = () => { const o = {}; let any = false;
          for (const [n, f] of parts) { const v = f.get(); if (v !== undefined) { o[n] = v; any = true; } }
          return any || required ? o : undefined; };
      } else if (mainType(s) === 'array') {
        const items = el('div'); const entries = [];
        const add = () => { const index = entries.length; const f = field(s.items || {}, path + '.' + index, '[' + index + ']', true);
          entries.push(f); items.append(f.node); };
        wrap.append(items, el('button', { type: 'button', text: 'Add item', onclick: add }),
                   el('button', { type: 'button', text: 'Remove last', onclick: () => { if (entries.length) { entries.pop(); items.lastChild.remove(); } } }));
        get = () => entries.length || required ? entries.map((f) => f.get()).map((v) => v === undefined ? null : v) : undefined;
      } else if (mainType(s) === 'boolean') {
        const select = el('select', { name: path, 'aria-label': path });
        for (const [v, t] of [['', '(unset)'], ['true', 'true'], ['false', 'false']]) select.append(el('option', { value: v, text: t }));
        wrap.append(select); get = () => select.value === '' ? (required ? false : undefined) : select.value === 'true';
      } else if (mainType(s) === 'integer' || mainType(s) === 'number') {
        const input = el('input', { name: path, type: 'number', step: mainType(s) === 'integer' ? '1' : 'any', 'aria-label': path,
                                    placeholder: s.default !== undefined ? String(s.default) : '' });
        wrap.append(input);
        get = () => input.value === '' ? (nullable(s) && required ? null : undefined) : Number(input.value);
      } else if (mainType(s) === 'string') {
        const input = el('input', { name: path, type: /password|secret/.test(path) ? 'password' : 'text', 'aria-label': path,
                                    placeholder: s.default !== undefined ? String(s.default) : '' });
        wrap.append(input);
        get = () => input.value === '' ? (required ? (nullable(s) ? null : '') : undefined) : input.value;
      } else if (mainType(s) === 'null') {
        get = () => null;
      } else {
        const area = el('textarea', { name: path, 'aria-label': path, placeholder: 'JSON' });
        wrap.append(area); get = () => area.value.trim() === '' ? undefined : JSON.parse(area.value);
      }
      return { node: wrap, get };
    }
    function selectMethod(name) {
      state.current = name; renderMethods();
      const m = method(name); const detail = $('method-detail'); detail.replaceChildren();
      const flags = el('p', { class: 'flags' });
      for (const [k, t] of [['x-job', 'job'], ['x-readonly', 'read-only'], ['x-no-auth-required', 'no login needed'], ['x-private', 'private']])
        if (m[k]) flags.append(el('span', { text: t }));
      detail.append(el('h2', { id: 'method-name', text: m.name }), el('p', { text: m.description || '' }), flags,
                    el('p', { text: 'Roles: ' + ((m['x-roles'] || []).join(', ') || 'FULL_ADMIN') }));
      const fields = m.params.map((p) => field(p.schema, p.name, p.name, p.required));
      const form = el('form', { id: 'call-form' }, ...fields.map((f) => f.node));
      const rawToggle = el('input', { type: 'checkbox', id: 'raw-toggle' });
      const raw = el('textarea', { id: 'raw-params', hidden: true, text: '[]' });
      rawToggle.addEventListener('change', () => { raw.hidden = !rawToggle.checked; form.hidden = rawToggle.checked;
        if (rawToggle.checked) try { raw.value = json(params()); } catch {} });
      const params = () => {
        if (rawToggle.checked) return JSON.parse(raw.value || '[]');
        const values = fields.map((f) => f.get());
        let last = values.length - 1;
        while (last >= 0 && values[last] === undefined && !m.params[last].required) last--;
        return values.slice(0, last + 1).map((v, i) => v === undefined ? (m.params[i].schema.default !== undefined ? m.params[i].schema.default : null) : v);
      };
      const result = el('pre', { id: 'call-result', class: 'output' });
      const error = el('p', { id: 'call-error', class: 'error', role: 'alert' });
      const copies = el('div', { id: 'copy-as' });
      const run = el('button', { id: 'call-button', type: 'button', text: 'Call' });
      run.addEventListener('click', async () => {
        for (const n of detail.querySelectorAll('.field-error')) n.remove();
        result.textContent = ''; error.textContent = '';
        let args; try { args = params(); } catch (e) { error.textContent = 'Arguments: ' + e.message; return; }
        renderCopies(copies, m, args);
        try {
          const value = await call(m.name, args);
          if (m['x-job']) { result.textContent = 'Job ' + value + ' submitted: see Jobs.'; trackJob(value); }
          else result.textContent = json(value);
        } catch (e) {
          error.textContent = reason(e);
          for (const [attribute, message] of (e.data && Array.isArray(e.data.extra) ? e.data.extra : [])) {
            const target = detail.querySelector('[data-path="' + CSS.escape(attribute) + '"]') || detail.querySelector('[data-path="' + CSS.escape(attribute.split('.')[0]) + '"]');
            const note = el('span', { class: 'field-error', text: message });
            if (target) target.append(note); else error.append(el('br'), attribute + ': ' + message);
          }
        }
      });
      detail.append(el('h3', { text: 'Call' }), form, el('label', {}, rawToggle, ' raw JSON arguments'), raw, el('div', { class: 'row' }, run),
                    error, result, el('h3', { text: 'Copy as' }), copies,
                    el('h3', { text: 'Parameters' }), el('pre', { text: json(m.params) }),
                    el('h3', { text: 'Result' }), el('pre', { text: json(m.result.schema) }));
      try { renderCopies(copies, m, params()); } catch {}
    }
    function renderCopies(box, m, args) {
      const quote = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";
      const apiHost = location.hostname + ':' + (state.settings.api_port || location.port);
      const restPath = '/api/v2.0/' + m.name.split('.').join('/');
      const body = args.length === 1 ? args[0] : args;
      const cli = ['switchboard call', m.name, ...args.map((a) => quote(JSON.stringify(a)))].join(' ');
      const curl = 'curl -u ' + quote(state.me.pw_name) + ' -X POST http://' + apiHost + restPath
        + (args.length ? ' -H ' + quote('Content-Type: application/json') + ' -d ' + quote(JSON.stringify(body)) : '');
      const py = ['import json, websocket  # pip install websocket-client',
        'ws = websocket.create_connection("ws://' + apiHost + '/api/current")',
        'ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": ' + JSON.stringify(M.login) + ', "params": [' + JSON.stringify(state.me.pw_name) + ', PASSWORD]}))',
        'print(ws.recv())',
        'ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": ' + JSON.stringify(m.name) + ', "params": json.loads(' + JSON.stringify(JSON.stringify(args)) + ')}))',
        'print(ws.recv())'].join('\n');
      box.replaceChildren();
      for (const [label, text, id] of [['switchboard call', cli, 'copy-cli'], ['curl (REST)', curl, 'copy-curl'], ['Python', py, 'copy-python']]) {
        const pre = el('pre', { id, text });
        box.append(el('div', { class: 'row' }, el('strong', { text: label }),
          el('button', { type: 'button', text: 'Copy', onclick: () => navigator.clipboard && navigator.clipboard.writeText(text) })), pre);
      }
    }

    // ---- events ----
    $('subscribe-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const name = $('event-name').value.trim(); if (!name) return;
      try { const id = await call(M.subscribe, [name]); state.subscriptions.set(id, name); renderSubscriptions(); }
      catch (e) { state.events.push({ name: 'subscribe ' + name, text: 'refused: ' + reason(e) }); renderEvents(); }
    });
    function renderSubscriptions() {
      const list = $('subscriptions'); list.replaceChildren();
      for (const [id, name] of state.subscriptions) list.append(el('li', { 'data-subscription': name }, name + ' ',
        el('button', { type: 'button', text: 'Unsubscribe', onclick: async () => { try { await call(M.unsubscribe, [id]); } catch {}
          state.subscriptions.delete(id); renderSubscriptions(); } })));
    }
    function onEvent(p) {
      if (p.collection === M.getJobs) onJobEvent(p);
      if (![...state.subscriptions.values()].some((mask) => mask === '*' || mask === p.collection
          || (mask.endsWith('.*') && p.collection.startsWith(mask.slice(0, -1))) || mask.startsWith(p.collection + ':'))) return;
      state.events.push({ name: p.collection, text: p.msg + ' ' + JSON.stringify(p.id) + ' ' + JSON.stringify(p.fields || {}) });
      if (state.events.length > 1000) state.events.shift();
      if (!state.eventsPaused && !$('page-events').hidden) renderEvents();
    }
    function onUnsubscribed(p) {
      for (const [id, name] of state.subscriptions) if (name === p.collection) state.subscriptions.delete(id);
      state.events.push({ name: p.collection, text: 'unsubscribed' + (p.error ? ': ' + JSON.stringify(p.error) : '') });
      renderSubscriptions(); renderEvents();
    }
    function renderEvents() {
      const q = $('event-filter').value.trim().toLowerCase();
      const list = $('event-list'); list.replaceChildren();
      for (const e of state.events) if (!q || (e.name + ' ' + e.text).toLowerCase().includes(q))
        list.append(el('li', { class: 'event', 'data-event': e.name }, el('strong', { text: e.name }), ' ' + e.text));
      list.scrollTop = list.scrollHeight;
    }
    $('event-filter').addEventListener('input', renderEvents);
    $('event-pause').addEventListener('click', () => { state.eventsPaused = !state.eventsPaused;
      $('event-pause').textContent = state.eventsPaused ? 'Resume' : 'Pause'; if (!state.eventsPaused) renderEvents(); });
    $('event-clear').addEventListener('click', () => { state.events = []; renderEvents(); });

    // ---- jobs: the live list (core.get_jobs events), progress, abort, log; the dispatcher's queues ----
    let jobsSubscribed = false;
    async function loadJobs() {
      if (!jobsSubscribed) { try { await call(M.subscribe, [M.getJobs]); jobsSubscribed = true; } catch {} }
      try { for (const j of await call(M.getJobs, [[], { order_by: ['-id'], limit: 50 }])) state.jobs.set(j.id, j); } catch {}
      renderJobs(); loadQueues();
    }
    function trackJob(id) { if (!state.jobs.has(id)) state.jobs.set(id, { id, method: '', state: 'WAITING', progress: { percent: 0 } }); loadJobs(); }
    function onJobEvent(p) {
      const old = state.jobs.get(p.id) || { id: p.id };
      const merged = Object.assign({}, old, p.fields || {});
      if (p.fields && p.fields.progress) merged.progress = Object.assign({}, old.progress || {}, p.fields.progress);
      state.jobs.set(p.id, merged);
      if (!$('page-jobs').hidden) renderJobs();
    }
    function renderJobs() {
      const body = $('job-list'); body.replaceChildren();
      for (const j of [...state.jobs.values()].sort((a, b) => b.id - a.id)) {
        const percent = (j.progress && j.progress.percent) || (j.state === 'SUCCESS' ? 100 : 0);
        const finished = ['SUCCESS', 'FAILED', 'ABORTED'].includes(j.state);
        body.append(el('tr', { 'data-job-id': j.id, 'data-state': j.state },
          el('td', { text: j.id }), el('td', { text: j.method || '' }), el('td', { class: 'job-state', text: j.state || '' }),
          el('td', {}, el('progress', { max: 100, value: percent }), el('span', { class: 'job-percent', text: ' ' + percent + ' %' }),
            el('span', { class: 'hint', text: ' ' + ((j.progress && j.progress.description) || '') })),
          el('td', {}, finished ? null : el('button', { type: 'button', class: 'job-abort', text: 'Abort',
              onclick: async () => { try { await call(M.jobAbort, [j.id]); } catch (e) { $('job-detail').textContent = reason(e); } } }),
            el('button', { type: 'button', class: 'job-show', text: 'Details', onclick: () => showJob(j.id) }))));
      }
    }
    async function showJob(id) {
      const j = state.jobs.get(id); let log = '';
      try { log = await call(M.jobLog, [id]); } catch {}
      $('job-detail').textContent = json({ id: j.id, method: j.method, arguments: j.arguments, state: j.state, result: j.result,
        error: j.error, progress: j.progress }) + (log ? '\n\nLog:\n' + (typeof log === 'string' ? log : json(log)) : '');
    }
    $('jobs-refresh').addEventListener('click', loadJobs);
    async function loadQueues() {
      const box = $('queues'); box.replaceChildren();
      if (!can(M.dispatcherList)) { box.append(el('p', { class: 'hint', text: 'Not available to this user.' })); return; }
      try { const queues = await call(M.dispatcherList);
        box.append(el('pre', { text: json(queues) }));
        if (can(M.dispatcherKill)) {
          const input = el('input', { placeholder: 'process id', 'aria-label': 'process id to kill' });
          box.append(el('div', { class: 'row' }, input, el('button', { type: 'button', text: 'Kill',
            onclick: async () => { try { await call(M.dispatcherKill, [input.value]); loadQueues(); } catch (e) { box.append(el('p', { class: 'error', text: reason(e) })); } } })));
        }
      } catch (e) { box.append(el('p', { class: 'error', text: reason(e) })); }
    }

    // ---- the daemon: plugins, workers, sessions ----
    function table(rows, columns) {
      const t = el('table', {}, el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { text: c })))));
      const b = el('tbody'); for (const r of rows) b.append(el('tr', {}, ...columns.map((c) => el('td', { text: typeof r[c] === 'object' && r[c] !== null ? JSON.stringify(r[c]) : String(r[c] ?? '') }))));
      t.append(b); return t;
    }
    async function loadDaemon() {
      for (const [box, name, params, columns] of [['plugins', M.pluginQuery, [], ['name', 'state', 'last_error']],
          ['workers', M.workerQuery, [], ['name', 'plugin', 'state', 'restarts', 'last_error']],
          ['sessions', M.sessions, [], ['id', 'username', 'dialect', 'origin', 'current']]]) {
        const target = $(box); target.replaceChildren();
        if (!can(name)) { target.append(el('p', { class: 'hint', text: 'Not available to this user.' })); continue; }
        try { target.append(table(await call(name, params), columns)); } catch (e) { target.append(el('p', { class: 'error', text: reason(e) })); }
      }
    }
    $('daemon-refresh').addEventListener('click', loadDaemon);

    // ---- frames ----
    function renderFrames() {
      const list = $('frame-list'); list.replaceChildren();
      for (const f of state.frames) list.append(el('li', { class: f.dir }, f.time + (f.dir === 'in' ? ' ← ' : ' → ') + f.text));
      list.scrollTop = list.scrollHeight;
    }
    $('frames-pause').addEventListener('click', () => { state.framesPaused = !state.framesPaused;
      $('frames-pause').textContent = state.framesPaused ? 'Resume' : 'Pause'; if (!state.framesPaused) renderFrames(); });
    $('frames-clear').addEventListener('click', () => { state.frames = []; renderFrames(); });
    """#
}
