// The header's menu on a phone: folded behind one button. Loaded in <head>
// so the page is marked as scripted before it paints (without scripts the
// menu simply stays open).
document.documentElement.classList.add('js');
document.addEventListener('DOMContentLoaded', function () {
  var toggle = document.getElementById('menu-toggle');
  var bar = document.getElementById('topbar');
  if (!toggle || !bar) { return; }
  toggle.addEventListener('click', function () {
    var open = bar.classList.toggle('menu-open');
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
  });
});
