// Scan fields (a file, not inline script: the CSP allows none). A field
// marked data-scan selects its whole text when focused, so a keyboard-wedge
// scanner's serial replaces what is there instead of being appended to it;
// a button with data-fill puts a suggested value into its field.
for (const input of document.querySelectorAll("input[data-scan]")) {
  let fresh = false;
  input.addEventListener("focus", () => {
    input.select();
    fresh = true;
  });
  // A click's mouseup would put the caret back and drop the selection.
  input.addEventListener("mouseup", (e) => {
    if (fresh) e.preventDefault();
    fresh = false;
  });
}
for (const button of document.querySelectorAll("button[data-fill]")) {
  button.addEventListener("click", () => {
    const field = document.getElementById(button.dataset.fill);
    if (!field) return;
    field.value = button.dataset.value;
    field.focus();
  });
}
