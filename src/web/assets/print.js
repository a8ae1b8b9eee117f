// The label sheet's print button (a file, not an onclick: the CSP allows no inline script).
document.getElementById("print-labels")?.addEventListener("click", () => window.print());
