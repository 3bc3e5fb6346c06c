/* Dashboard charts (ECharts); a bar or slice opens the ledger filtered to its cases. */
(function () {
  "use strict";

  function bar(id, items, color) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined" || !items || !items.length) { if (el) el.hidden = true; return; }
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: items.map(function (i) { return i.name; }), axisLabel: { interval: 0, rotate: items.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: items.map(function (i) { return i.count; }), itemStyle: { color: color }, barMaxWidth: 36 }]
    });
    chart.on("click", function (p) { var item = items[p.dataIndex]; if (item && item.url) window.location.href = item.url; });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("dashboard-data");
    if (!node) return;
    var data = JSON.parse(node.textContent);
    bar("chart-stages", data.stages, "#1f6f5c");
    bar("chart-departments", data.departments, "#2f5d8a");
    bar("chart-months", data.months, "#8a6d2f");
  });
})();
