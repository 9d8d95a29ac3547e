// The charts of kaohe's report tables. A table marked data-chart="stacked-bar" gets a chart
// drawn from its own cells by Apache ECharts (static/echarts, SVG renderer, so that it prints
// sharp); the table stays below it as the chart's table view, and the chart's text alternative
// (data-chart-label) says what it shows. Without scripts, the table alone is shown.
(function () {
  'use strict';

  // Grades best first, then "no grade": green, blue, amber, red, grey.
  var COLOURS = ['#1a7f37', '#1d4e89', '#bf8700', '#b42318', '#8c959f'];

  function number(cell) {
    var n = Number(cell.textContent.trim().replace(/[%,\s]/g, ''));
    return isFinite(n) ? n : 0;
  }

  function stackedBar(table) {
    var head = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) {
      return c.textContent.trim();
    });
    // The first column names the rows; a last column of totals is not a series.
    var last = table.hasAttribute('data-chart-total') ? head.length - 1 : head.length;
    var names = head.slice(1, last);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var categories = rows.map(function (r) { return r.cells[0].textContent.trim(); });
    var box = document.createElement('div');
    box.className = 'chart';
    box.setAttribute('role', 'img');
    box.setAttribute('aria-label', table.getAttribute('data-chart-label') || '');
    box.style.height = Math.max(240, 26 * rows.length + 90) + 'px';
    var region = table.closest('.table-scroll') || table;
    region.parentNode.insertBefore(box, region);
    var chart = window.echarts.init(box, null, { renderer: 'svg' });
    chart.setOption({
      animation: false,
      color: COLOURS,
      title: { text: table.getAttribute('data-chart-title') || '', left: 0, textStyle: { fontSize: 14 } },
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
    window.addEventListener('resize', function () { chart.resize(); });
    window.addEventListener('beforeprint', function () { chart.resize(); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    if (!window.echarts) {
      return;
    }
    document.querySelectorAll('table[data-chart="stacked-bar"]').forEach(stackedBar);
  });
})();
