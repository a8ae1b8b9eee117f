// Column names on table cells (a file, not inline script: the CSP allows
// none). On a phone, app.css stacks each table row into lines "name: value";
// the name is the cell's data-label, copied here from the column's <th>
// (colspans counted). Cells added later (a refreshed fragment) are labelled too.
function labelTable(table) {
  const head = table.tHead && table.tHead.rows[0];
  if (!head) return;
  const names = [];
  for (const th of head.cells) {
    // An action column's name is for screen readers only: no label shown.
    const text = th.textContent.replace(/\s+/g, " ").trim();
    const hidden = th.querySelector(".visually-hidden");
    const name = hidden && hidden.textContent.trim() === text ? "" : text;
    for (let i = 0; i < th.colSpan; i++) names.push(name);
  }
  for (const body of table.tBodies) {
    for (const row of body.rows) {
      let col = 0;
      for (const cell of row.cells) {
        if (!cell.hasAttribute("data-label") && names[col]) cell.dataset.label = names[col];
        col += cell.colSpan;
      }
    }
  }
}
function labelAll() {
  for (const table of document.querySelectorAll("table")) labelTable(table);
}
labelAll();
new MutationObserver(labelAll).observe(document.body, { childList: true, subtree: true });
