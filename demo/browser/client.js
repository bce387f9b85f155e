// The page's code: what a user of tendril writes for the browser. It imports
// the package by name; the bundler picks the browser entry (package.json
// exports, "browser" condition). Plain JavaScript, bundled by the demo server.
import { Doc, ORSet, Seq, connectWebSocket } from 'tendril';

const doc = new Doc({ name: 'demo' });
const text = doc.get('text', Seq);
const list = doc.get('list', ORSet);
const connector = connectWebSocket(doc, `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/demo`);

const status = document.getElementById('status');
connector.on('status', (state, info) => {
  status.textContent = info ? `${state}: ${info.reason}` : state;
  status.className = state;
});
connector.on('error', (err) => {
  status.textContent = `stopped: ${err.message}`;
  status.className = 'disconnected';
});

// The text: local edits become inserts and deletes at the place that changed.
const area = document.getElementById('text');
let shown = '';
area.addEventListener('input', () => {
  const next = area.value;
  let start = 0;
  while (start < shown.length && start < next.length && shown[start] === next[start]) start++;
  let end = 0;
  while (end < shown.length - start && end < next.length - start && shown[shown.length - 1 - end] === next[next.length - 1 - end]) end++;
  const removed = shown.length - start - end;
  if (removed > 0) text.delete(start, removed);
  const inserted = next.slice(start, next.length - end);
  if (inserted.length > 0) text.insert(start, inserted);
  shown = next;
});
// Remote edits: show the new text and keep the caret where it was relative to the text around it.
text.on('change', (change) => {
  if (change.local) return;
  let caret = area.selectionStart;
  let at = 0;
  for (const op of change.delta) {
    if (op.retain !== undefined) at += op.retain;
    else if (op.insert !== undefined) {
      const length = typeof op.insert === 'string' ? op.insert.length : op.insert.length;
      if (at <= caret) caret += length;
      at += length;
    } else if (op.delete !== undefined) {
      if (at < caret) caret -= Math.min(op.delete, caret - at);
    }
  }
  shown = text.toString();
  area.value = shown;
  area.setSelectionRange(caret, caret);
});

// The list: add-wins set of strings.
const items = document.getElementById('items');
function renderList() {
  items.replaceChildren(
    ...list
      .values()
      .sort()
      .map((value) => {
        const li = document.createElement('li');
        li.textContent = String(value);
        const remove = document.createElement('button');
        remove.textContent = 'remove';
        remove.addEventListener('click', () => list.remove(value));
        li.append(remove);
        return li;
      }),
  );
}
list.on('change', renderList);
document.getElementById('add-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('new-item');
  if (input.value.trim() !== '') list.add(input.value.trim());
  input.value = '';
});
renderList();
