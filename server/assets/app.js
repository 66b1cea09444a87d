// The page at / of dwsnetd: plain JavaScript on the daemon's own HTTP API
// (GET /v1/models, POST /v1/inspect, POST /adapt, POST /embed). No framework,
// nothing fetched from elsewhere, nothing stored: the chosen file lives in this tab.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    models: [],          // /v1/models' list
    choices: [],         // target-domain choices, the values of #domain-select
    file: null,          // the chosen File; kept whatever a request answers
    inspected: null,     // /v1/inspect's object for it
    busy: false,
    downloadUrl: null,
  };

  // ---- small helpers ----------------------------------------------------------------

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fmtInt(n) {
    return typeof n === 'number' ? n.toLocaleString('en-US') : String(n);
  }

  function fmtBytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
    return (n / (1024 * 1024)).toFixed(1) + ' MiB';
  }

  function pct(x) {
    return (100 * x).toFixed(1) + '%';
  }

  function words(s) {
    return String(s).replace(/_/g, ' ');
  }

  function stem(name) {
    return name.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '') || 'model';
  }

  // "contrast:4,gaussian_noise:2" -> "contrast 4 + gaussian noise 2"
  function domainText(d) {
    if (!d || d === 'none') return null;
    return String(d).split(',').map((part) => {
      const [type, severity] = part.split(':');
      return severity ? words(type) + ' ' + severity : words(type);
    }).join(' + ');
  }

  // ---- HTTP ----------------------------------------------------------------------------

  // A problem+json body (RFC 9457) as the daemon sends it, or one made up for a
  // failure that has none (no connection, a proxy's HTML page).
  function problemOf(status, text) {
    let p = null;
    try { p = JSON.parse(text); } catch (e) { p = null; }
    if (p && typeof p === 'object' && (p.title || p.code)) return p;
    if (status === 0) {
      return { title: 'No answer from the server', status: 0, code: 'network_error',
        detail: 'The connection failed or was closed before an answer came. Is dwsnetd still running?' };
    }
    return { title: 'HTTP ' + status, status: status, detail: text ? text.slice(0, 300) : '' };
  }

  // What to do about some codes, in words, under the server's own detail.
  const HINTS = {
    overloaded: 'The server is busy; nothing was lost, try again in a moment.',
    body_too_large: 'The file is larger than this server accepts (its --body-limit).',
    too_large: 'The MLP is larger than the decoder\'s limits.',
    incompatible_model: 'Choose a model whose signature matches the file (the table above), or a file that matches.',
    unsupported_operator: 'dwsnet reads MLP classifiers only: Flatten, then Gemm or MatMul+Add layers with activations between them.',
    not_an_mlp: 'dwsnet reads MLP classifiers only: Flatten, then Gemm or MatMul+Add layers with activations between them.',
    invalid_protobuf: 'Is this an .onnx file?',
    external_data_unsupported: 'Save the model with its weights inside the .onnx file (no external data).',
    no_model_loaded: 'The server has no model of this kind; see /readyz.',
  };

  function showProblem(box, p, retryAfter) {
    box.replaceChildren();
    const title = el('div', 'title', p.title || 'The request failed');
    const tags = [p.status, p.code].filter((x) => x !== undefined && x !== null && x !== '').join(' ');
    if (tags) title.append(el('span', 'code', ' (' + tags + ')'));
    box.append(title);
    if (p.detail && p.detail !== p.title) box.append(el('div', 'detail', p.detail));
    let hint = HINTS[p.code];
    if (p.code === 'overloaded' && retryAfter) hint = 'The server is busy; nothing was lost, try again in ' + retryAfter + ' s.';
    if (hint) box.append(el('div', 'detail', hint));
    if (p.request_id) box.append(el('div', 'rid', 'request id ' + p.request_id));
    box.hidden = false;
  }

  async function getJson(path) {
    let r;
    try {
      r = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    } catch (e) {
      throw problemOf(0, '');
    }
    const text = await r.text();
    if (!r.ok) throw problemOf(r.status, text);
    return JSON.parse(text);
  }

  // POST the chosen file as the `model` field of a form. XMLHttpRequest rather than
  // fetch for its upload progress. Resolves (never rejects) with status, headers, body.
  function post(url, form, onProgress) {
    return new Promise((resolve) => {
      const x = new XMLHttpRequest();
      x.open('POST', url);
      x.responseType = 'blob';
      if (onProgress) {
        x.upload.onprogress = (e) => onProgress(e.lengthComputable ? e.loaded / e.total : null, false);
        x.upload.onload = () => onProgress(1, true);
      }
      x.onload = () => resolve({ status: x.status, header: (n) => x.getResponseHeader(n), body: x.response });
      x.onerror = x.onabort = x.ontimeout = () =>
        resolve({ status: 0, header: () => null, body: null });
      x.send(form);
    });
  }

  async function bodyText(r) {
    return r.body ? r.body.text() : '';
  }

  function modelForm() {
    const form = new FormData();
    form.append('model', state.file, state.file.name);
    return form;
  }

  // ---- 1. the models -------------------------------------------------------------------

  function signatureText(s) {
    if (!s) return '';
    // Hidden widths: the range seen in training (any width is accepted).
    const range = s.width_range || [];
    const width = !range[0] ? 'hidden' : range[0] === range[1] ? String(range[0]) : range[0] + '-' + range[1];
    const hidden = s.depth > 1 ? (s.depth - 1) + ' \u00d7 ' + width + ' ' + s.activation + ' \u2192 ' : '';
    return s.d0 + ' \u2192 ' + hidden + s.dL;
  }

  // The card's headline: for an adapter, the target-domain accuracy before and after
  // adapting, over the test classifiers; otherwise the card's own scalar entries.
  function headline(metrics) {
    if (!metrics || typeof metrics !== 'object') return [];
    const rows = Array.isArray(metrics.test) ? metrics.test : null;
    if (rows) {
      const mine = rows.find((r) => /adapter/i.test(r.method || ''));
      const before = rows.find((r) => /^(no adaptation|none)$/i.test(r.method || ''));
      const oracle = rows.find((r) => /^oracle$/i.test(r.method || ''));
      if (mine && typeof mine.target_acc_mean === 'number') {
        const out = [];
        const b = before ? before.target_acc_mean : mine.target_acc_mean - mine.gain_mean;
        out.push('target accuracy ' + pct(b) + ' \u2192 ' + pct(mine.target_acc_mean) +
          ' (+' + (100 * mine.gain_mean).toFixed(1) + ' points)');
        if (typeof mine.fraction_improved === 'number') {
          out.push('improves ' + pct(mine.fraction_improved) + ' of ' + (mine.classifiers || '?') +
            ' test classifiers');
        }
        if (oracle && typeof mine.fraction_of_oracle_gain === 'number') {
          out.push(pct(mine.fraction_of_oracle_gain) + ' of the fine-tuning oracle\'s gain');
        }
        return out;
      }
    }
    const out = [];
    for (const [k, v] of Object.entries(metrics)) {
      if (typeof v === 'number' && out.length < 4) out.push(words(k) + ' ' + (Number.isInteger(v) ? v : v.toPrecision(4)));
    }
    return out;
  }

  function acceptedDomains(m) {
    const acc = m.accepts;
    if (acc && typeof acc === 'object' && !Array.isArray(acc) && Array.isArray(acc.types)) {
      const list = acc.types.map(words);
      if (acc.any) list.push('any');
      if (acc.auto) list.push('auto');
      const sev = Array.isArray(acc.severities) && acc.severities.length
        ? ' (severity ' + acc.severities[0] + '-' + acc.severities[acc.severities.length - 1] + ')' : '';
      return list.join(', ') + sev;
    }
    if (Array.isArray(acc)) return acc.map((d) => domainText(d) || d).join(', ');
    return domainText(m.target_domain);
  }

  function renderModels() {
    const body = $('models-body');
    body.replaceChildren();
    for (const m of state.models) {
      const tr = el('tr');
      tr.dataset.model = m.id;
      const id = el('td');
      id.append(el('span', 'id', m.id));
      if (m.file) id.append(el('span', 'sub', m.file));
      tr.append(id, el('td', null, m.kind));
      const sig = el('td');
      sig.append(el('code', null, signatureText(m.signature)));
      tr.append(sig, el('td', 'small', m.input_convention || '-'));
      tr.append(el('td', null, m.kind === 'adapter' ? (acceptedDomains(m) || '-') : '-'));
      const metrics = el('td', 'small');
      const lines = headline(m.metrics);
      if (!lines.length) metrics.textContent = '-';
      for (const line of lines) metrics.append(el('span', 'sub', line));
      tr.append(metrics);
      body.append(tr);
    }
    $('models-table').hidden = state.models.length === 0;
  }

  // Target-domain choices from the adapters' entries: today each adapter has one
  // fixed target_domain; an adapter whose entry lists `accepts` ({types, severities,
  // any, auto}, or a list of domain strings) offers each of those instead.
  function domainChoices() {
    const out = [];
    for (const m of state.models) {
      if (m.kind !== 'adapter') continue;
      const acc = m.accepts;
      if (acc && typeof acc === 'object' && !Array.isArray(acc) && Array.isArray(acc.types)) {
        const severities = Array.isArray(acc.severities) && acc.severities.length ? acc.severities : null;
        if (acc.default) out.push({ model: m.id, label: 'default: ' + (domainText(acc.default) || acc.default), domain: acc.default });
        for (const t of acc.types) out.push({ model: m.id, label: words(t), type: t, severities: severities });
        if (acc.any) out.push({ model: m.id, label: 'any (a corruption you cannot name)', type: 'any', severities: null });
        if (acc.none) out.push({ model: m.id, label: 'none (clean: weights unchanged)', type: 'none', severities: null });
        if (acc.auto) out.push({ model: m.id, label: 'auto (estimated from your images)', type: 'auto', images: true });
      } else if (Array.isArray(acc)) {
        for (const d of acc) out.push({ model: m.id, label: domainText(d) || d, domain: d });
      } else {
        out.push({ model: m.id, label: domainText(m.target_domain) || m.id + ' (its card names no domain)', domain: null });
      }
    }
    return out;
  }

  function fillDomainSelect() {
    const select = $('domain-select');
    select.replaceChildren();
    state.choices = domainChoices();
    const adapters = [...new Set(state.choices.map((c) => c.model))];
    state.choices.forEach((c, i) => {
      const o = el('option', null, c.label);
      o.value = String(i);
      c.option = o;
      let parent = select;
      if (adapters.length > 1) {
        parent = select.querySelector('optgroup[data-model="' + CSS.escape(c.model) + '"]');
        if (!parent) {
          parent = el('optgroup');
          parent.label = c.model;
          parent.dataset.model = c.model;
          select.append(parent);
        }
      }
      parent.append(o);
    });
    if (!state.choices.length) select.append(el('option', null, 'no adapter is loaded'));
    select.disabled = !state.choices.length;
    onDomainChange();
  }

  function currentChoice() {
    return state.choices[Number($('domain-select').value)] || null;
  }

  function onDomainChange() {
    const c = currentChoice();
    const sevField = $('severity-field');
    const sev = $('severity-select');
    sevField.hidden = !(c && c.severities);
    if (c && c.severities) {
      const keep = sev.value;
      sev.replaceChildren(...c.severities.map((s) => {
        const o = el('option', null, String(s));
        o.value = String(s);
        return o;
      }));
      if (keep && c.severities.map(String).includes(keep)) sev.value = keep;
    }
    $('images-field').hidden = !(c && c.images);
    updateButtons();
  }

  function fillEncoderSelect() {
    const select = $('encoder-select');
    select.replaceChildren();
    const encoders = state.models.filter((m) => m.kind === 'encoder');
    for (const m of encoders) {
      const o = el('option', null, m.id + ' (' + signatureText(m.signature) + ')');
      o.value = m.id;
      select.append(o);
    }
    if (!encoders.length) select.append(el('option', null, 'no encoder is loaded'));
    select.disabled = !encoders.length;
  }

  async function loadModels() {
    const status = $('models-status');
    try {
      const doc = await getJson('/v1/models');
      state.models = Array.isArray(doc.models) ? doc.models : [];
    } catch (p) {
      status.textContent = 'Could not read /v1/models: ' + (p.title || '') + (p.detail ? ': ' + p.detail : '');
      document.body.dataset.state = 'error';
      return;
    }
    renderModels();
    fillDomainSelect();
    fillEncoderSelect();
    if (state.models.length) {
      status.textContent = state.models.length + ' model' + (state.models.length > 1 ? 's' : '') + ' loaded.';
    } else {
      status.textContent = 'No models are loaded on this server.';
      getJson('/readyz').catch((p) => { if (p.detail) status.textContent += ' ' + p.detail; });
    }
    document.body.dataset.state = 'ready';
    getJson('/healthz').then((h) => { if (h.version) $('version').textContent = 'dwsnetd ' + h.version; })
      .catch(() => {});
  }

  // ---- 2. the file ---------------------------------------------------------------------

  function fact(dl, term, value) {
    dl.append(el('dt', null, term), el('dd', null, value));
  }

  function renderInspect(d) {
    const dl = $('inspect-summary');
    dl.replaceChildren();
    fact(dl, 'Widths', d.widths.join(' \u2192 '));
    fact(dl, 'Activations', d.activations.join(', ') + (d.head && d.head !== 'none' ? '; head ' + d.head : ''));
    fact(dl, 'Parameters', fmtInt(d.parameters));
    fact(dl, 'Opset', 'opset ' + d.opset + ', IR version ' + d.ir_version);
    const producer = d.producer && d.producer.name ? d.producer.name + ' ' + (d.producer.version || '') : 'not recorded';
    fact(dl, 'Producer', producer.trim());
    const shape = Array.isArray(d.input.shape) ? '[' + d.input.shape.map((x) => x === null ? '?' : x).join(', ') + ']' : 'no shape';
    fact(dl, 'Input', "'" + d.input.name + "' " + d.input.type + ' ' + shape + (d.input.flatten ? ', flattened' : ''));
    fact(dl, 'Output', "'" + d.output.name + "'");
    const storage = [...new Set(d.layers.map((l) => l.weight_storage))];
    const transposed = d.layers.filter((l) => l.weight_transposed).length;
    fact(dl, 'Weights stored as', storage.join('; ') + (transposed ? ' (' + transposed + ' transposed)' : ''));
    if (d.dropout && d.dropout.nodes) {
      fact(dl, 'Dropout', d.dropout.nodes + ' node(s), the identity for dwsnet' +
        (d.dropout.training_mode ? ' (training_mode set in ' + d.dropout.training_mode + ')' : ''));
    }
    const body = $('layers-body');
    body.replaceChildren();
    d.layers.forEach((l, i) => {
      const tr = el('tr');
      tr.append(el('td', null, i + 1), el('td', null, l.op), el('td', null, l.outputs + ' \u00d7 ' + l.inputs));
      tr.append(el('td', null, l.activation + (l.leaky_alpha !== undefined ? ' (' + l.leaky_alpha + ')' : '')));
      const w = el('td');
      w.append(el('code', null, l.weight));
      w.append(el('span', 'sub', l.weight_storage + (l.weight_transposed ? ', transposed' : '') +
        (l.alpha !== 1 ? ', alpha ' + l.alpha : '')));
      const b = el('td');
      if (l.bias === null) b.textContent = 'none (reads as 0)';
      else {
        b.append(el('code', null, l.bias));
        b.append(el('span', 'sub', l.bias_storage + (l.beta !== 1 ? ', beta ' + l.beta : '')));
      }
      tr.append(w, b);
      body.append(tr);
    });
    const compat = $('compat');
    compat.replaceChildren();
    for (const m of d.models || []) {
      const li = el('li', m.accepts ? 'yes' : 'no');
      li.dataset.model = m.id;
      li.textContent = m.accepts ? '\u2713 ' + m.id + ' (' + m.kind + ') accepts this classifier'
        : '\u2717 ' + m.id + ' (' + m.kind + '): ' + m.why_not;
      compat.append(li);
    }
    $('inspect-result').hidden = false;
  }

  // Marks the choices of models that do not accept the file, and selects the first
  // adapter and encoder that do.
  function markCompatibility(d) {
    const accepts = new Map((d ? d.models || [] : []).map((m) => [m.id, m.accepts]));
    const domain = $('domain-select');
    let firstOk = -1;
    state.choices.forEach((c, i) => {
      const ok = accepts.get(c.model);
      c.option.textContent = c.label + (ok === false ? ' (' + c.model + ' does not accept this file)' : '');
      if (ok && firstOk < 0) firstOk = i;
    });
    const cur = currentChoice();
    if (firstOk >= 0 && cur && accepts.get(cur.model) === false) domain.value = String(firstOk);
    const enc = $('encoder-select');
    for (const o of enc.options) {
      if (!o.value) continue;
      const m = state.models.find((x) => x.id === o.value);
      o.textContent = o.value + ' (' + signatureText(m.signature) + ')' +
        (accepts.get(o.value) === false ? ' (does not accept this file)' : '');
    }
    if (accepts.get(enc.value) === false) {
      const good = [...enc.options].find((o) => accepts.get(o.value));
      if (good) enc.value = good.value;
    }
    onDomainChange();
  }

  // Hides the error and the given results (all of them for a new file).
  function clearResults(...ids) {
    $('run-error').hidden = true;
    for (const id of ids.length ? ids : ['adapt-result', 'embed-result']) $(id).hidden = true;
  }

  async function chooseFile(file) {
    if (!file || state.busy) return;
    state.file = file;
    state.inspected = null;
    clearResults();
    $('file-name').textContent = file.name + ' (' + fmtBytes(file.size) + ')';
    $('file-name').hidden = false;
    $('inspect-result').hidden = true;
    $('inspect-error').hidden = true;
    $('inspect-status').textContent = 'Reading ' + file.name + '...';
    updateButtons();
    setBusy(true);
    const r = await post('/v1/inspect', modelForm(), null);
    setBusy(false);
    if (state.file !== file) return;   // another file was chosen meanwhile
    const text = await bodyText(r);
    if (r.status === 200) {
      state.inspected = JSON.parse(text);
      $('inspect-status').textContent = 'dwsnet reads ' + file.name + ' as this MLP:';
      renderInspect(state.inspected);
      markCompatibility(state.inspected);
    } else {
      $('inspect-status').textContent = 'dwsnet cannot use ' + file.name + ':';
      showProblem($('inspect-error'), problemOf(r.status, text), r.header('Retry-After'));
      markCompatibility(null);
    }
    document.body.dataset.state = r.status === 200 ? 'inspected' : 'refused';
  }

  // ---- 3. adapt and embed --------------------------------------------------------------

  function setBusy(busy, text) {
    state.busy = busy;
    $('file-input').disabled = busy;
    const row = $('progress-row');
    row.hidden = !busy || !text;
    if (text) $('progress-text').textContent = text;
    updateButtons();
  }

  function progress(fraction, uploaded, running) {
    const bar = $('progress');
    if (uploaded || fraction === null) {
      bar.removeAttribute('value');   // indeterminate while the server works
      $('progress-text').textContent = running;
    } else {
      bar.value = Math.round(100 * fraction);
      $('progress-text').textContent = 'Uploading ' + Math.round(100 * fraction) + '%';
    }
  }

  function updateButtons() {
    const hasFile = !!state.file;
    $('adapt-button').disabled = state.busy || !hasFile || !state.choices.length;
    $('embed-button').disabled = state.busy || !hasFile || $('encoder-select').disabled;
    $('run-hint').hidden = hasFile;
  }

  function attachmentName(disposition, fallback) {
    const m = /filename="([^"]*)"/.exec(disposition || '');
    return m && m[1] ? m[1] : fallback;
  }

  function adaptUrl(c) {
    const q = new URLSearchParams({ model: c.model });
    if (c.type) q.set('domain', c.severities ? c.type + ':' + $('severity-select').value : c.type);
    else if (c.domain) q.set('domain', c.domain);
    return '/adapt?' + q.toString();
  }

  async function adapt() {
    const c = currentChoice();
    if (!state.file || !c || state.busy) return;
    clearResults('adapt-result');
    const form = modelForm();
    if (c.images) for (const img of $('images-input').files) form.append('image', img, img.name);
    const started = performance.now();
    setBusy(true, 'Uploading...');
    const r = await post(adaptUrl(c), form, (f, done) => progress(f, done, 'Adapting with ' + c.model + '...'));
    const seconds = (performance.now() - started) / 1000;
    setBusy(false);
    if (r.status !== 200) {
      showProblem($('run-error'), problemOf(r.status, await bodyText(r)), r.header('Retry-After'));
      document.body.dataset.state = 'failed';
      return;
    }
    const name = attachmentName(r.header('Content-Disposition'), stem(state.file.name) + '.adapted.onnx');
    if (state.downloadUrl) URL.revokeObjectURL(state.downloadUrl);
    state.downloadUrl = URL.createObjectURL(r.body);
    const link = $('download-link');
    link.href = state.downloadUrl;
    link.download = name;
    link.textContent = 'Download ' + name;
    $('adapt-model').textContent = r.header('X-DWSNet-Model') || c.model;
    $('adapt-time').textContent = seconds.toFixed(2) + ' s (upload, adapt and download)';
    const change = Number(r.header('X-DWSNet-Max-Change'));
    $('adapt-change').textContent = r.header('X-DWSNet-Max-Change') === null ? 'not reported'
      : change.toPrecision(4) + ' (max |w_adapted - w|)';
    $('adapt-size').textContent = fmtBytes(r.body.size);
    $('adapt-result').hidden = false;
    document.body.dataset.state = 'adapted';
    link.click();   // the download starts at once; the link stays for another copy
  }

  function plot(svg, values) {
    const ns = 'http://www.w3.org/2000/svg';
    svg.replaceChildren();
    const W = 640, H = 160, mid = H / 2;
    const top = Math.max(1e-12, ...values.map((v) => Math.abs(v)));
    const w = W / Math.max(1, values.length);
    values.forEach((v, i) => {
      const h = (Math.abs(v) / top) * (mid - 6);
      const r = document.createElementNS(ns, 'rect');
      r.setAttribute('x', (i * w + w * 0.1).toFixed(2));
      r.setAttribute('width', Math.max(0.5, w * 0.8).toFixed(2));
      r.setAttribute('y', (v >= 0 ? mid - h : mid).toFixed(2));
      r.setAttribute('height', Math.max(0.5, h).toFixed(2));
      r.setAttribute('class', v >= 0 ? 'pos' : 'neg');
      const t = document.createElementNS(ns, 'title');
      t.textContent = i + ': ' + v;
      r.append(t);
      svg.append(r);
    });
    const axis = document.createElementNS(ns, 'line');
    axis.setAttribute('x1', '0');
    axis.setAttribute('x2', String(W));
    axis.setAttribute('y1', String(mid));
    axis.setAttribute('y2', String(mid));
    axis.setAttribute('class', 'axis');
    svg.append(axis);
  }

  async function embed() {
    const model = $('encoder-select').value;
    if (!state.file || !model || state.busy) return;
    clearResults('embed-result');
    setBusy(true, 'Uploading...');
    const r = await post('/embed?' + new URLSearchParams({ model: model }).toString(), modelForm(),
      (f, done) => progress(f, done, 'Embedding with ' + model + '...'));
    setBusy(false);
    const text = await bodyText(r);
    if (r.status !== 200) {
      showProblem($('run-error'), problemOf(r.status, text), r.header('Retry-After'));
      document.body.dataset.state = 'failed';
      return;
    }
    const d = JSON.parse(text);
    const values = d.embedding.map((v) => (v === null ? NaN : v));
    $('embed-summary').textContent = d.model + ': a ' + d.dim + '-dimensional embedding of the ' +
      d.widths.join('-') + ' MLP (bars: each coordinate, scaled to the largest |value|).';
    plot($('embed-plot'), values.map((v) => (isFinite(v) ? v : 0)));
    $('embed-vector').textContent = '[' + values.map((v) => v.toPrecision(6)).join(', ') + ']';
    $('embed-result').hidden = false;
    document.body.dataset.state = 'embedded';
  }

  // ---- wiring --------------------------------------------------------------------------

  function init() {
    const input = $('file-input');
    input.addEventListener('change', () => chooseFile(input.files[0]));
    const zone = $('drop-zone');
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      zone.classList.add('over');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      const files = e.dataTransfer.files;
      if (!files.length || state.busy) return;
      try { input.files = files; } catch (err) { /* older browsers: the page still has it */ }
      chooseFile(files[0]);
    });
    $('domain-select').addEventListener('change', onDomainChange);
    $('adapt-button').addEventListener('click', adapt);
    $('embed-button').addEventListener('click', embed);
    updateButtons();
    loadModels();
  }

  init();
}());
