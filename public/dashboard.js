// The dashboard's live parts: spawn progress and the container's log, over server-sent events.
// A file of Spawner's own (script-src 'self'), so the pages keep a policy without inline scripts.
/* global document, EventSource */
(function () {
  // Everything a container prints arrives as data and is shown with textContent: never HTML.
  var box = document.getElementById('progress');
  var logBox = document.getElementById('logs');
  if (!box || !logBox) return;
  var MAX_LINES = 2000;

  var steps = document.getElementById('progress-steps');
  var progress = new EventSource(box.getAttribute('data-url'));
  progress.addEventListener('progress', function (e) {
    var step = JSON.parse(e.data);
    // A new start begins a new list.
    var last = steps.lastElementChild && steps.lastElementChild.getAttribute('data-phase');
    if (step.phase === 'creating' || last === 'ready' || last === 'failed') steps.textContent = '';
    var item = document.createElement('li');
    item.setAttribute('data-phase', step.phase);
    item.textContent = step.message;
    steps.appendChild(item);
    box.hidden = false;
  });

  var lines = document.getElementById('log-lines');
  var state = document.getElementById('log-state');
  var logs = new EventSource(logBox.getAttribute('data-url'));
  function add(text, className) {
    var follow = lines.scrollTop + lines.clientHeight >= lines.scrollHeight - 4;
    var row = document.createElement('div');
    if (className) row.className = className;
    row.textContent = text;
    lines.appendChild(row);
    while (lines.childNodes.length > MAX_LINES) lines.removeChild(lines.firstChild);
    if (follow) lines.scrollTop = lines.scrollHeight;
  }
  logs.onopen = function () {
    state.textContent = 'Live: new lines appear as your container prints them.';
  };
  logs.addEventListener('line', function (e) {
    add(JSON.parse(e.data).text);
  });
  logs.addEventListener('dropped', function (e) {
    add('… ' + JSON.parse(e.data).count + ' lines dropped (too many at once) …', 'dropped');
  });
  logs.addEventListener('end', function (e) {
    state.textContent = 'Not following: ' + JSON.parse(e.data).reason + '. It reconnects by itself.';
  });
  logs.onerror = function () {
    state.textContent =
      logs.readyState === EventSource.CLOSED ? 'The log is not available right now (is it open in another tab?).' : 'Reconnecting…';
  };
})();
