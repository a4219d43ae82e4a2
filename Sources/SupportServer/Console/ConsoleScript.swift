/// The console's one script, served from `/console/console.js` (the content security policy
/// allows no inline script). Nothing depends on it: every action is a link or a form, and a
/// queue page without it reloads itself. With it:
///
/// - keyboard shortcuts: `j`/`k` move through a queue's rows, `o` or Enter opens the selected
///   ticket, `t` takes the next ticket, `r` and `i` go to the reply and note boxes, `/` to
///   Find, `q` to My queue;
/// - a queue page refreshes its content in place every 30 s (the selected row and the scroll
///   position stay), and not while the tab is hidden;
/// - a form's button is disabled once it is sent, so a double click sends once (the server's
///   idempotency key would make a second send harmless anyway).
enum ConsoleScript {
    static let path = "/console/console.js"

    static let source = #"""
        (function () {
          'use strict';
          var selected = null;

          function rows() {
            return Array.prototype.slice.call(document.querySelectorAll('table.queue tbody tr[data-ticket]'));
          }

          function select(row) {
            if (selected) { selected.classList.remove('selected'); }
            selected = row;
            if (!row) { return; }
            row.classList.add('selected');
            var link = row.querySelector('a');
            if (link) { link.focus(); }
          }

          function move(step) {
            var all = rows();
            if (!all.length) { return; }
            var i = selected ? all.indexOf(selected) : -1;
            i = Math.max(0, Math.min(all.length - 1, i + step));
            select(all[i]);
          }

          function focusField(id) {
            var field = document.getElementById(id);
            if (!field) { return false; }
            field.scrollIntoView({ block: 'center' });
            field.focus();
            return true;
          }

          function isTyping(target) {
            if (!target) { return false; }
            var tag = target.tagName;
            return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable;
          }

          document.addEventListener('keydown', function (event) {
            if (event.ctrlKey || event.metaKey || event.altKey) { return; }
            if (isTyping(event.target)) {
              if (event.key === 'Escape') { event.target.blur(); }
              return;
            }
            switch (event.key) {
              case 'j': move(1); break;
              case 'k': move(-1); break;
              case 'o':
                if (selected) { var a = selected.querySelector('a'); if (a) { window.location.href = a.href; } }
                break;
              case 't':
                var take = document.querySelector('form.take-next button');
                if (take) { take.click(); } else { return; }
                break;
              case 'r': if (!focusField('reply-body')) { return; } break;
              case 'i': if (!focusField('note-body')) { return; } break;
              case '/': if (!focusField('find-id')) { window.location.href = '/console/find'; } break;
              case 'q': window.location.href = '/console/queue'; break;
              default: return;
            }
            event.preventDefault();
          });

          document.addEventListener('submit', function (event) {
            var form = event.target;
            if (form.getAttribute('data-sent') === '1') { event.preventDefault(); return; }
            if (form.method && form.method.toLowerCase() === 'post') {
              form.setAttribute('data-sent', '1');
              var buttons = form.querySelectorAll('button[type=submit]');
              for (var i = 0; i < buttons.length; i++) { buttons[i].setAttribute('aria-disabled', 'true'); }
            }
          }, true);

          var content = document.getElementById('queue-content');
          if (content && window.fetch && window.DOMParser) {
            var seconds = parseInt(content.getAttribute('data-refresh'), 10) || 30;
            var refresh = function () {
              if (document.hidden) { return; }
              fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
                .then(function (response) { return response.ok ? response.text() : null; })
                .then(function (text) {
                  if (!text) { return; }
                  var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('queue-content');
                  var current = document.getElementById('queue-content');
                  if (!fresh || !current) { return; }
                  var keep = selected ? selected.getAttribute('data-ticket') : null;
                  current.replaceWith(fresh);
                  selected = null;
                  if (keep) {
                    var again = document.querySelector('table.queue tbody tr[data-ticket="' + keep.replace(/["\\]/g, '\\$&') + '"]');
                    if (again) { again.classList.add('selected'); selected = again; }
                  }
                })
                .catch(function () { /* the next round tries again */ });
            };
            window.setInterval(refresh, seconds * 1000);
          }
        })();
        """#
}
