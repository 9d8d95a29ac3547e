// The charts of kaohe's report tables. A table marked data-chart="KIND" gets a chart drawn from
// its own cells by Apache ECharts (static/echarts, SVG renderer, so that it prints sharp); the
// table stays below it as the chart's table view. The table gives the chart's title
// (data-chart-title), an optional subtitle (data-chart-subtitle) and its text alternative
// (data-chart-label). Every number comes from the server, in data- attributes of the cells
// (data-rank, data-low, data-high, data-value, data-score, data-count) or, for "stacked-bar",
// in the cells' text: nothing is computed here. Without scripts, the table alone is shown.
//
// Kinds:
// - "stacked-bar": a row per category, a column per series, stacked (the grades by unit);
// - "interval": a point per row (data-value or data-rank) with its interval (data-low to
//   data-high) as error bars, on a value axis from data-chart-min to data-chart-max, with an
//   optional line at data-chart-line named data-chart-line-label (a quota line); the intervals
//   are named data-chart-interval, else by their column's header;
// - "radar": a row per axis (data-name), a series per column whose cells hold data-value, each
//   axis from data-chart-min (else 0) to data-chart-max;
// - "line-band": a row per point in time (data-name), the score (data-score) above, the rank
//   (data-rank) with its interval (data-low to data-high) below; data-chart-reverse when the
//   table lists the latest first.
// - "line": a row per point in time (data-name), oldest first; a rate (data-value, empty when
//   there is none: a gap in the line, never 0) as a line on the left axis from data-chart-min
//   to data-chart-max, and each column whose cells hold data-count as bars on the right axis,
//   named by its header (a unit's ratings by month: satisfaction rate, ratings, bad reviews).
(function () {
  'use strict';

  // Grades best first, then "no grade": green, blue, amber, red, grey.
  var COLOURS = ['#1a7f37', '#1d4e89', '#bf8700', '#b42318', '#8c959f'];
  var INK = '#1f2328';

  function number(cell) {
    var n = Number(cell.textContent.trim().replace(/[%,\s]/g, ''));
    return isFinite(n) ? n : 0;
  }

  // The number in attribute data-NAME of the first cell of `row` holding it; null without one.
  function datum(row, name) {
    var cell = row.querySelector('[data-' + name + ']');
    if (!cell) {
      return null;
    }
    var text = cell.getAttribute('data-' + name);
    if (text === '') {
      return null;
    }
    var n = Number(text);
    return isFinite(n) ? n : null;
  }

  // The header text of the column of the first cell of `row` holding data-NAME.
  function header(table, row, name) {
    var cell = row && row.querySelector('[data-' + name + ']');
    var th = cell && table.tHead.rows[0].cells[cell.cellIndex];
    return th ? th.textContent.trim() : '';
  }

  function label(row) {
    var cell = row.querySelector('[data-name]');
    return cell ? cell.getAttribute('data-name') : row.cells[0].textContent.trim();
  }

  function bodyRows(table) {
    return Array.prototype.slice.call(table.tBodies[0].rows);
  }

  function attrNumber(table, name) {
    var text = table.getAttribute(name);
    if (text === null || text === '') {
      return undefined;
    }
    var n = Number(text);
    return isFinite(n) ? n : undefined;
  }

  // The chart's box above the table (above its scrolling region), with its role and text
  // alternative, and the chart drawn in it; redrawn to the page's width on resize and print.
  function mount(table, height) {
    var box = document.createElement('div');
    box.className = 'chart';
    if (table.id) {
      box.id = table.id + '-chart';
    }
    box.setAttribute('role', 'img');
    box.setAttribute('aria-label', table.getAttribute('data-chart-label') || '');
    box.style.height = height + 'px';
    var region = table.closest('.table-scroll') || table;
    region.parentNode.insertBefore(box, region);
    var chart = window.echarts.init(box, null, { renderer: 'svg' });
    window.addEventListener('resize', function () { chart.resize(); });
    window.addEventListener('beforeprint', function () { chart.resize(); });
    return chart;
  }

  function title(table) {
    return {
      text: table.getAttribute('data-chart-title') || '',
      subtext: table.getAttribute('data-chart-subtitle') || '',
      left: 0,
      textStyle: { fontSize: 14 },
      subtextStyle: { color: '#57606a' }
    };
  }

  // Error bars: a line from low to high with a cap at each end, across the category axis.
  // `horizontal`: values on the x axis. A data item is [category index, low, high].
  function errorBars(name, data, horizontal, colour, xAxisIndex, yAxisIndex) {
    return {
      name: name,
      type: 'custom',
      xAxisIndex: xAxisIndex || 0,
      yAxisIndex: yAxisIndex || 0,
      encode: horizontal ? { x: [1, 2], y: 0 } : { x: 0, y: [1, 2] },
      renderItem: function (params, api) {
        var c = api.value(0);
        var a = horizontal ? api.coord([api.value(1), c]) : api.coord([c, api.value(1)]);
        var b = horizontal ? api.coord([api.value(2), c]) : api.coord([c, api.value(2)]);
        var cap = 4;
        var style = { stroke: colour, lineWidth: 1.5, fill: 'none' };
        var capAt = function (p) {
          return horizontal
            ? { x1: p[0], y1: p[1] - cap, x2: p[0], y2: p[1] + cap }
            : { x1: p[0] - cap, y1: p[1], x2: p[0] + cap, y2: p[1] };
        };
        return {
          type: 'group',
          children: [
            { type: 'line', shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style: style },
            { type: 'line', shape: capAt(a), style: style },
            { type: 'line', shape: capAt(b), style: style }
          ]
        };
      },
      data: data,
      z: 1
    };
  }

  function stackedBar(table) {
    var head = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) {
      return c.textContent.trim();
    });
    // The first column names the rows; a last column of totals is not a series.
    var last = table.hasAttribute('data-chart-total') ? head.length - 1 : head.length;
    var names = head.slice(1, last);
    var rows = bodyRows(table);
    var categories = rows.map(function (r) { return r.cells[0].textContent.trim(); });
    var chart = mount(table, Math.max(240, 26 * rows.length + 90));
    chart.setOption({
      animation: false,
      color: COLOURS,
      title: title(table),
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 26, left: 0 },
      grid: { left: 8, right: 24, top: 60, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: categories, inverse: true },
      series: names.map(function (name, i) {
        return {
          name: name,
          type: 'bar',
          stack: 'all',
          data: rows.map(function (r) { return number(r.cells[i + 1]); })
        };
      })
    });
  }

  // [row index, low, high] of each row whose cells carry both ends of its interval.
  function intervalBars(rows) {
    var bars = [];
    rows.forEach(function (r, i) {
      var low = datum(r, 'low');
      var high = datum(r, 'high');
      if (low !== null && high !== null) {
        bars.push([i, low, high]);
      }
    });
    return bars;
  }

  function interval(table) {
    var rows = bodyRows(table);
    var key = rows.length && rows[0].querySelector('[data-rank]') ? 'rank' : 'value';
    var categories = rows.map(label);
    var points = rows.map(function (r, i) { return [datum(r, key), i]; });
    var bars = intervalBars(rows);
    var subtitle = table.getAttribute('data-chart-subtitle');
    var top = subtitle ? 78 : 60;
    var pointSeries = {
      name: header(table, rows[0], key),
      type: 'scatter',
      symbolSize: 8,
      itemStyle: { color: COLOURS[1] },
      data: points,
      z: 2
    };
    var line = attrNumber(table, 'data-chart-line');
    if (line !== undefined) {
      pointSeries.markLine = {
        silent: true,
        symbol: 'none',
        lineStyle: { color: COLOURS[3], type: 'dashed', width: 1.5 },
        label: { formatter: table.getAttribute('data-chart-line-label') || '', color: COLOURS[3] },
        data: [{ xAxis: line }]
      };
    }
    var chart = mount(table, Math.max(200, 22 * rows.length + top + 40));
    chart.setOption({
      animation: false,
      title: title(table),
      tooltip: { trigger: 'item' },
      legend: { top: subtitle ? 48 : 26, left: 0 },
      grid: { left: 8, right: 32, top: top, bottom: 8, containLabel: true },
      xAxis: {
        type: 'value',
        min: attrNumber(table, 'data-chart-min'),
        max: attrNumber(table, 'data-chart-max'),
        minInterval: key === 'rank' ? 1 : 0
      },
      yAxis: { type: 'category', data: categories, inverse: true },
      series: [
        pointSeries,
        errorBars(table.getAttribute('data-chart-interval') || header(table, rows[0], 'low'), bars, true, INK)
      ]
    });
  }

  function radar(table) {
    var rows = bodyRows(table);
    var first = rows[0];
    var cells = first ? Array.prototype.slice.call(first.querySelectorAll('[data-value]')) : [];
    var min = attrNumber(table, 'data-chart-min') || 0;
    var max = attrNumber(table, 'data-chart-max');
    var subtitle = table.getAttribute('data-chart-subtitle');
    var names = cells.map(function (c) {
      return table.tHead.rows[0].cells[c.cellIndex].textContent.trim();
    });
    var series = cells.map(function (c, s) {
      return {
        name: names[s],
        value: rows.map(function (r) {
          var cell = r.querySelectorAll('[data-value]')[s];
          var n = cell ? Number(cell.getAttribute('data-value')) : NaN;
          return isFinite(n) ? n : 0;
        })
      };
    });
    var chart = mount(table, 400);
    chart.setOption({
      animation: false,
      color: [COLOURS[1], COLOURS[2]],
      title: title(table),
      tooltip: { trigger: 'item' },
      legend: { top: subtitle ? 48 : 26, left: 0 },
      radar: {
        center: ['50%', '60%'],
        radius: '58%',
        axisName: { color: INK, fontSize: 13 },
        indicator: rows.map(function (r) { return { name: label(r), min: min, max: max }; })
      },
      series: [{ type: 'radar', data: series }]
    });
  }

  function lineBand(table) {
    var rows = bodyRows(table);
    if (table.hasAttribute('data-chart-reverse')) {
      rows.reverse();
    }
    var categories = rows.map(label);
    var scores = rows.map(function (r) { return datum(r, 'score'); });
    var ranks = rows.map(function (r) { return datum(r, 'rank'); });
    var bars = intervalBars(rows);
    var subtitle = table.getAttribute('data-chart-subtitle');
    var top = subtitle ? 80 : 62;
    var chart = mount(table, 500);
    var axis = function (index) {
      return {
        type: 'category',
        data: categories,
        gridIndex: index,
        axisLabel: { show: index === 1, interval: 0, rotate: 30, color: INK }
      };
    };
    chart.setOption({
      animation: false,
      title: title(table),
      tooltip: { trigger: 'axis' },
      legend: { top: subtitle ? 48 : 26, left: 0 },
      grid: [
        { left: 24, right: 32, top: top, height: 120, containLabel: true },
        { left: 24, right: 32, top: top + 150, bottom: 8, containLabel: true }
      ],
      xAxis: [axis(0), axis(1)],
      yAxis: [
        { type: 'value', scale: true, gridIndex: 0 },
        { type: 'value', inverse: true, min: 1, minInterval: 1, gridIndex: 1 }
      ],
      series: [
        {
          name: header(table, rows[0], 'score'),
          type: 'line',
          xAxisIndex: 0,
          yAxisIndex: 0,
          itemStyle: { color: COLOURS[0] },
          data: scores
        },
        {
          name: header(table, rows[0], 'rank'),
          type: 'line',
          xAxisIndex: 1,
          yAxisIndex: 1,
          itemStyle: { color: COLOURS[1] },
          data: ranks,
          z: 2
        },
        errorBars(header(table, rows[0], 'low'), bars, false, INK, 1, 1)
      ]
    });
  }

  function line(table) {
    var rows = bodyRows(table);
    var head = table.tHead.rows[0].cells;
    var counts = Array.prototype.slice.call(rows[0].querySelectorAll('[data-count]'));
    var subtitle = table.getAttribute('data-chart-subtitle');
    var top = subtitle ? 80 : 62;
    var bars = counts.map(function (c, s) {
      return {
        name: head[c.cellIndex].textContent.trim(),
        type: 'bar',
        yAxisIndex: 1,
        itemStyle: { color: [COLOURS[4], COLOURS[2], COLOURS[3]][s % 3] },
        data: rows.map(function (r) {
          var cell = r.querySelectorAll('[data-count]')[s];
          var n = cell ? Number(cell.getAttribute('data-count')) : NaN;
          return isFinite(n) ? n : null;
        })
      };
    });
    var chart = mount(table, 380);
    chart.setOption({
      animation: false,
      title: title(table),
      tooltip: { trigger: 'axis' },
      legend: { top: subtitle ? 48 : 26, left: 0 },
      grid: { left: 8, right: 8, top: top + 16, bottom: 8, containLabel: true },
      xAxis: {
        type: 'category',
        data: rows.map(label),
        axisLabel: { interval: 0, rotate: 30, color: INK }
      },
      yAxis: [
        {
          type: 'value',
          min: attrNumber(table, 'data-chart-min'),
          max: attrNumber(table, 'data-chart-max'),
          axisLabel: { formatter: '{value}%' }
        },
        { type: 'value', minInterval: 1, splitLine: { show: false } }
      ],
      series: bars.concat([{
        name: header(table, rows[0], 'value'),
        type: 'line',
        yAxisIndex: 0,
        connectNulls: false,
        symbolSize: 7,
        itemStyle: { color: COLOURS[0] },
        lineStyle: { width: 2.5 },
        data: rows.map(function (r) { return datum(r, 'value'); }),
        z: 3
      }])
    });
  }

  var KINDS = {
    'stacked-bar': stackedBar,
    'interval': interval,
    'radar': radar,
    'line-band': lineBand,
    'line': line
  };

  document.addEventListener('DOMContentLoaded', function () {
    if (!window.echarts) {
      return;
    }
    document.querySelectorAll('table[data-chart]').forEach(function (table) {
      var draw = KINDS[table.getAttribute('data-chart')];
      if (draw && table.tBodies[0] && table.tBodies[0].rows.length) {
        draw(table);
      }
    });
  });
})();
