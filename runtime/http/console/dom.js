// Small DOM helpers. Every value from the node is set as text, never parsed as HTML.

export const $ = (selector, root = document) => root.querySelector(selector);

/** h('td', { class: 'num' }, 'text', childNode, …) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) element.append(child instanceof Node ? child : String(child));
  return element;
}

/** Replaces the rows of a table's body. */
export function rows(table, list) {
  table.tBodies[0].replaceChildren(...list);
}

export function bytes(n) {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function ms(n) {
  if (n === undefined) return '';
  return n < 1 ? `${(n * 1000).toFixed(0)} µs` : n < 1000 ? `${n.toFixed(n < 10 ? 2 : 0)} ms` : `${(n / 1000).toFixed(2)} s`;
}

export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** A status line that says what happened, in green or red. */
export function say(element, text, ok = true) {
  element.textContent = text;
  element.className = ok ? 'good' : 'error';
}

/** A form's control by name (form.name, form.id and form.method are the form's own attributes). */
export const field = (form, name) => form.elements.namedItem(name);
