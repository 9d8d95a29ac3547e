// The search boxes of kaohe's pickers (crates/web/src/org/picker.rs). Without scripts the
// pickers work as plain lists; with them:
//
// - a <select data-search="LABEL"> (a unit tree, indented one ideographic space per level, or
//   people grouped by unit in <optgroup>s) gets a search box before it, labelled LABEL: typing
//   keeps the options whose name or code holds the text, with the units above them in the
//   tree (so that a match is seen where it sits), the whole group when the group's name
//   matches, and every selected option; the rest are hidden, never unselected; in a single
//   choice, the one unit found is chosen;
// - an <input list="ID" data-search-url="URL"> refills its <datalist id="ID"> from
//   URL?q=TEXT as the person types (a JSON body {"items": [{"id": …, "label": …}]}), so that
//   people beyond the list the page was sent with are found by name.
//
// What is submitted is still the option's value, checked by the server.
(function () {
  'use strict';

  var INDENT = '\u3000';

  function depth(option) {
    var d = 0;
    while (option.text.charAt(d) === INDENT) {
      d += 1;
    }
    return d;
  }

  function holds(text, q) {
    return text.toLowerCase().indexOf(q) !== -1;
  }

  function filterTree(select, q) {
    // The options above the current one in the tree, by depth.
    var path = [];
    var found = [];
    Array.prototype.forEach.call(select.options, function (option) {
      var d = depth(option);
      path.length = Math.min(path.length, d);
      var match = q !== '' && option.value !== '' &&
        (holds(option.text, q) || holds(option.value, q));
      var hit = match || option.value === '' || option.selected || q === '';
      option.hidden = !hit;
      if (hit) {
        path.forEach(function (above) {
          above.hidden = false;
        });
      }
      if (match) {
        found.push(option);
      }
      path[d] = option;
    });
    // In a single choice, the one unit found is chosen.
    if (!select.multiple && found.length === 1) {
      select.value = found[0].value;
    }
  }

  function filterGroups(select, q) {
    Array.prototype.forEach.call(select.querySelectorAll('optgroup'), function (group) {
      var all = q === '' || holds(group.label, q);
      var shown = 0;
      Array.prototype.forEach.call(group.querySelectorAll('option'), function (option) {
        var hit = all || option.selected || holds(option.text, q) || holds(option.value, q);
        option.hidden = !hit;
        shown += hit ? 1 : 0;
      });
      group.hidden = shown === 0;
    });
  }

  function searchBox(select) {
    var box = document.createElement('input');
    box.type = 'search';
    box.className = 'picker-search';
    box.autocomplete = 'off';
    box.placeholder = select.getAttribute('data-search');
    box.setAttribute('aria-label', select.getAttribute('data-search'));
    if (select.id) {
      box.id = select.id + '-search';
      box.setAttribute('aria-controls', select.id);
    }
    var grouped = select.querySelector('optgroup') !== null;
    box.addEventListener('input', function () {
      var q = box.value.trim().toLowerCase();
      if (grouped) {
        filterGroups(select, q);
      } else {
        filterTree(select, q);
      }
    });
    // Enter in the box filters; it must not submit the form around it.
    box.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') {
        e.preventDefault();
      }
    });
    select.parentNode.insertBefore(box, select);
  }

  function remoteList(input) {
    var list = document.getElementById(input.getAttribute('list'));
    var url = input.getAttribute('data-search-url');
    var timer = null;
    var asked = '';
    function refill(items) {
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      items.forEach(function (item) {
        var option = document.createElement('option');
        option.value = String(item.id);
        option.textContent = String(item.label);
        list.appendChild(option);
      });
    }
    input.addEventListener('input', function () {
      var q = input.value.trim();
      window.clearTimeout(timer);
      if (q === '' || q === asked) {
        return;
      }
      timer = window.setTimeout(function () {
        asked = q;
        fetch(url + '?q=' + encodeURIComponent(q), {
          credentials: 'same-origin',
          headers: { Accept: 'application/json' }
        })
          .then(function (r) {
            return r.ok ? r.json() : { items: [] };
          })
          .then(function (body) {
            if (asked === q && Array.isArray(body.items)) {
              refill(body.items);
            }
          })
          .catch(function () {
            asked = '';
          });
      }, 200);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll('select[data-search]'), searchBox);
    Array.prototype.forEach.call(
      document.querySelectorAll('input[list][data-search-url]'),
      remoteList
    );
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
