// The checks every page must pass, run in the page by the harness
// (World::inspect) in one call. Returns { status, links, problems }.
//
// Layout rules, at the window's own size (1366x768 desk, 390x844 phone):
// - Nothing scrolls sideways: the document is no wider than the window.
// - No table scrolls sideways inside its wrapper: on a desk a wide table
//   wraps or drops secondary columns; on a phone it is stacked.
// - Key columns are seen: in every table, the key column (the <th> marked
//   class="key", else the first column, the one that names the row) is
//   displayed in the first rows, inside the window and not clipped by an
//   overflow container.
// - On a phone (< 600 px) every control is at least 44 px high. Controls
//   are buttons, inputs (a checkbox or radio counts by its <label> when it
//   has one), selects, textareas, summaries, links styled as buttons
//   (role="button") and links in a <nav> (menus and tabs). Links inside the
//   text of a paragraph, list, cell or definition are not controls: they
//   are read, not aimed at, and the text around them spaces them.
const problems = [];
const nav = performance.getEntriesByType('navigation')[0];
const vw = document.documentElement.clientWidth;
const phone = window.innerWidth < 600;
const describe = e => {
  let s = e.tagName.toLowerCase();
  if (e.id) s += '#' + e.id;
  else if (typeof e.className === 'string' && e.className.trim()) s += '.' + e.className.trim().split(/\s+/).join('.');
  const t = (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ').slice(0, 40);
  return t ? `${s} "${t}"` : s;
};
const shown = e => {
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
};

for (const r of performance.getEntriesByType('resource')) {
  if (r.responseStatus >= 400) problems.push(`failed to load ${r.name} (${r.responseStatus})`);
}
if (document.title.includes('Server error')) problems.push('server error page');
const fields = [...document.querySelectorAll('input, select, textarea')]
  .filter(e => !['hidden', 'submit', 'button'].includes(e.type));
for (const e of fields) {
  if (e.labels.length === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
    problems.push(`unlabelled ${e.outerHTML.slice(0, 120)}`);
}
for (const e of document.querySelectorAll('a[href], button, input, select, textarea')) {
  if (e.type !== 'hidden' && e.tabIndex < 0) problems.push(`not reachable with Tab ${e.outerHTML.slice(0, 120)}`);
}
const links = [...new Set([...document.querySelectorAll('a[href]')].map(a => a.href.split('#')[0])
  .filter(h => h.startsWith(location.origin) && !h.includes('/logout')))];

if (document.documentElement.scrollWidth > vw + 1)
  problems.push(`scrolls sideways: page ${document.documentElement.scrollWidth} px wide in ${vw} px`);

for (const table of document.querySelectorAll('main table')) {
  if (!shown(table)) continue;
  const owner = table.id ? table : table.closest('[id]:not(main)');
  const name = owner ? '#' + owner.id
    : '[' + [...table.querySelectorAll('th')].slice(0, 2).map(th => th.innerText.trim()).join(', ') + ']';
  for (let a = table.parentElement; a && a !== document.body; a = a.parentElement) {
    const o = getComputedStyle(a).overflowX;
    if (o !== 'visible' && a.scrollWidth > a.clientWidth + 1) {
      problems.push(`table ${name} scrolls sideways inside its ${a.tagName.toLowerCase()} (${a.scrollWidth} px in ${a.clientWidth} px)`);
      break;
    }
  }
  const head = table.tHead && table.tHead.rows[0] ? [...table.tHead.rows[0].cells] : [];
  const marked = head.findIndex(th => th.classList.contains('key'));
  const key = marked < 0 ? 0 : marked;
  const rows = [...table.tBodies].flatMap(b => [...b.rows])
    .filter(r => r.cells.length > key && (head.length === 0 || r.cells.length === head.length))
    .slice(0, 3);
  for (const row of rows) {
    const cell = row.cells[key];
    const r = cell.getBoundingClientRect();
    const what = `key column "${(head[key] ? head[key].innerText : '').trim() || key + 1}" of table ${name}`;
    if (!shown(cell)) { problems.push(`${what} is hidden`); break; }
    if (r.left < -1 || r.right > vw + 1) { problems.push(`${what} is outside the window (${Math.round(r.left)}..${Math.round(r.right)} px)`); break; }
    let clipped = null;
    for (let a = cell.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === 'visible') continue;
      const b = a.getBoundingClientRect();
      if (r.left < b.left - 1 || r.right > b.right + 1) { clipped = a; break; }
    }
    if (clipped) { problems.push(`${what} is clipped by its ${clipped.tagName.toLowerCase()}`); break; }
  }
}

if (phone) {
  const controls = document.querySelectorAll(
    'button, input, select, textarea, summary, a[role=button], nav a[href]');
  for (const e of controls) {
    if (e.type === 'hidden') continue;
    let target = e;
    if (e.type === 'checkbox' || e.type === 'radio') target = e.closest('label') || e.labels[0] || e;
    if (!shown(target)) continue;
    const h = target.getBoundingClientRect().height;
    if (h < 43.5) problems.push(`control under 44 px: ${describe(e)} (${Math.round(h)} px)`);
  }
}

return { status: nav ? nav.responseStatus : 0, links, problems };
