// The local console of `npm start`: reads GET /_console/state every second and draws the flows,
// the queues (with a button that redrives a DLQ) and the last requests per destination.
// Plain DOM, no framework, no build step. Values are always set as text, never parsed as HTML.
'use strict';

const POLL_MS = 1000;
/** What a redrive answered, by queue id, shown under its button until the next redrive. */
const redriveNotes = new Map();
/** Queues whose redrive is under way (their button is disabled meanwhile). */
const redriving = new Set();
/** Request bodies the reader opened, kept open when the list is drawn again. */
const openBodies = new Set();
/** The last state drawn per section: a section is drawn again only when its part changed. */
const drawn = { flows: '', queues: '', destinations: '' };
let state;
let timer;

/** `el('td', {className: 'num'}, '12')`: an element with attributes (on* are listeners) and children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'className') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const code = (text) => el('code', {}, text);
const time = (iso) => el('time', { datetime: iso }, new Date(iso).toLocaleTimeString('en-GB'));
/** A count cell; `data-value` holds the bare number (the tests read it). */
const count = (field, value, alert = false) =>
  el(
    'td',
    { className: `num${value === 0 ? ' zero' : ''}${alert && value > 0 ? ' alert' : ''}`, 'data-field': field, 'data-value': value },
    value.toLocaleString('en'),
  );

function drawFlows(flows) {
  const rows = flows.map((flow) =>
    el(
      'tr',
      { 'data-flow': flow.id, className: flow.accepted + flow.rejected === 0 ? 'idle' : undefined },
      el('td', {}, code(flow.id)),
      el('td', {}, code(flow.route)),
      el('td', {}, flow.queues.join(', ')),
      count('accepted', flow.accepted),
      count('rejected', flow.rejected, true),
    ),
  );
  document.querySelector('#flows tbody').replaceChildren(...rows);
}

function drawQueues(queues) {
  const rows = queues.map((queue) => {
    const busy = queue.waiting + queue.dlq + queue.delivered + queue.parked + queue.failures > 0;
    return el(
      'tr',
      { 'data-queue': queue.id, className: busy ? undefined : 'idle' },
      el(
        'td',
        {},
        code(queue.id),
        el('span', { className: 'tag' }, queue.lane),
        queue.drive === 'schedule' ? el('span', { className: 'tag' }, 'scheduled') : null,
      ),
      el('td', {}, queue.destination),
      el('td', { className: 'fed-by' }, queue.fedBy.join(', ') || '—'),
      count('waiting', queue.waiting),
      count('dlq', queue.dlq, true),
      count('delivered', queue.delivered),
      count('parked', queue.parked, true),
      count('failures', queue.failures, true),
      el('td', { className: 'redrive' }, redriveCell(queue)),
    );
  });
  document.querySelector('#queues tbody').replaceChildren(...rows);
}

function redriveCell(queue) {
  const note = redriveNotes.get(queue.id);
  const parts = [];
  if (queue.dlq > 0 || redriving.has(queue.id)) {
    parts.push(
      el(
        'button',
        { type: 'button', 'data-redrive': queue.id, disabled: redriving.has(queue.id), onclick: () => redrive(queue) },
        redriving.has(queue.id) ? 'redriving…' : `Redrive ${queue.dlq.toLocaleString('en')}`,
      ),
      el('div', { className: 'hint' }, 'or ', code(queue.redrive.command)),
    );
  }
  if (note) parts.push(el('div', { className: `note-${note.kind}`, 'data-redrive-note': queue.id }, note.text, note.command ? [' ', code(note.command)] : []));
  return parts.length ? parts : '—';
}

/** POST /_dlq/<queue>/redrive (the DLQ admin routes); when this run does not serve it, the CLI command. */
async function redrive(queue) {
  redriving.add(queue.id);
  redriveNotes.delete(queue.id);
  drawQueues(state.queues);
  const { method, path, command } = queue.redrive;
  let note;
  try {
    const response = await fetch(path, { method });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      const moved = Number(body.moved ?? 0);
      note = { kind: 'ok', text: `Moved ${moved.toLocaleString('en')} message${moved === 1 ? '' : 's'} back to ${queue.id}.` };
    } else if (response.status === 404) {
      note = { kind: 'hint', text: `${method} ${path} answered 404: this run does not serve it. From a terminal:`, command };
    } else {
      const reason = body.error ?? body.message;
      note = { kind: 'error', text: `${method} ${path} answered ${response.status}${reason ? ` (${reason})` : ''}. From a terminal:`, command };
    }
  } catch {
    note = { kind: 'error', text: 'The runner did not answer. From a terminal:', command };
  }
  redriving.delete(queue.id);
  redriveNotes.set(queue.id, note);
  drawn.queues = '';
  schedule(0);
}

function drawDestinations(destinations) {
  const cards = destinations.map((destination) =>
    el(
      'article',
      { className: 'destination', 'data-destination': destination.id },
      el(
        'h3',
        {},
        destination.id,
        destination.sandboxed ? el('span', { className: 'tag sandbox' }, 'sandbox') : el('span', { className: 'tag real' }, 'real API: label and status only'),
      ),
      destination.calls.length === 0 && destination.requests.length === 0 ? el('p', { className: 'empty' }, 'no call yet') : null,
      destination.calls.length > 0 ? callsTable(destination.calls) : null,
      destination.requests.length > 0
        ? el(
            'ol',
            { className: 'requests' },
            destination.requests.map((request) => requestItem(destination.id, request)),
          )
        : null,
    ),
  );
  document.querySelector('#destinations').replaceChildren(...cards);
}

function callsTable(calls) {
  return el(
    'table',
    { className: 'calls' },
    el(
      'tbody',
      {},
      calls.map((call) => {
        const failed = call.status === undefined || call.status >= 400;
        return el(
          'tr',
          { 'data-call': call.label },
          el('td', {}, time(call.at)),
          el('td', {}, code(call.label)),
          el('td', { className: failed ? 'alert' : 'ok', 'data-field': 'status' }, call.status ?? call.error),
          el('td', { className: 'num' }, `${call.durationMs} ms`),
          el('td', { className: 'num' }, call.attempt > 0 ? `retry ${call.attempt}` : ''),
        );
      }),
    ),
  );
}

function requestItem(destinationId, request) {
  const key = `${destinationId} ${request.at} ${request.method} ${request.path}`;
  const headers = Object.entries(request.headers);
  let body = null;
  if (request.body !== undefined) {
    const size = request.bodyChars ?? request.body.length;
    const details = el(
      'details',
      { open: openBodies.has(key), ontoggle: (event) => (event.target.open ? openBodies.add(key) : openBodies.delete(key)) },
      el(
        'summary',
        {},
        `body (${size.toLocaleString('en')} characters${request.bodyChars ? `, first ${request.body.length.toLocaleString('en')} shown` : ''})`,
      ),
      el('pre', {}, request.body),
    );
    body = details;
  }
  return el(
    'li',
    { 'data-request': request.path },
    el('div', { className: 'line' }, code(`${request.method} ${request.path}`), ' ', time(request.at)),
    headers.length
      ? el(
          'dl',
          { className: 'headers' },
          headers.map(([name, value]) => [el('dt', {}, name), el('dd', { 'data-header': name }, value)]),
        )
      : null,
    body,
  );
}

/** Draws what changed and says when the state was read. */
function draw(next) {
  state = next;
  for (const [section, drawSection] of [
    ['flows', drawFlows],
    ['queues', drawQueues],
    ['destinations', drawDestinations],
  ]) {
    const text = JSON.stringify(next[section]);
    if (text === drawn[section]) continue; // left alone: a selection or an open body stays as it is
    drawn[section] = text;
    drawSection(next[section]);
  }
  const status = document.getElementById('status');
  status.className = 'status live';
  status.textContent = `live · updated ${new Date(next.at).toLocaleTimeString('en-GB')} · data ${next.dataDir ?? 'in memory (DATA_DIR=:memory:)'}`;
}

async function poll() {
  try {
    const response = await fetch('/_console/state', { cache: 'no-store' });
    if (!response.ok) throw new Error(`state answered ${response.status}`);
    draw(await response.json());
  } catch {
    const status = document.getElementById('status');
    status.className = 'status down';
    status.textContent = 'the runner does not answer (stopped?): trying again every second';
  }
  schedule(POLL_MS);
}

/** One poll at a time: the next starts `ms` after the previous one ended (0: now). */
function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(poll, ms);
}

schedule(0);
