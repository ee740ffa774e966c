/* The draft editor: a problem's "line N, column C" link puts the cursor in the YAML
   textarea at that place, selects the line and scrolls it into view, so the designer
   fixes it where they read it. Without JavaScript the link still jumps to the line in
   the numbered copy of the draft below. */
(function () {
  "use strict";
  var area = document.getElementById("yaml");
  if (!area) { return; }

  function lineHeight() {
    var style = window.getComputedStyle(area);
    var h = parseFloat(style.lineHeight);
    return isNaN(h) ? parseFloat(style.fontSize) * 1.2 : h;
  }

  function focusAt(line, column) {
    var lines = area.value.split("\n");
    var n = Math.max(1, Math.min(line, lines.length));
    var start = 0;
    for (var i = 0; i < n - 1; i += 1) { start += lines[i].length + 1; }
    var end = start + lines[n - 1].length;
    var caret = Math.min(start + Math.max(column - 1, 0), end);
    area.focus({ preventScroll: true });
    area.setSelectionRange(caret === end ? start : caret, end);
    area.scrollTop = Math.max(0, (n - 1) * lineHeight() - area.clientHeight / 3);
    area.scrollIntoView({ block: "center" });
    area.dataset.focusedLine = String(n);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-line]");
    if (!link) { return; }
    event.preventDefault();
    focusAt(parseInt(link.dataset.line, 10), parseInt(link.dataset.column || "1", 10));
  });
}());
