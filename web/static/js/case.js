/* The case diagram: bpmn-js navigated viewer (global BpmnJS), the case's process and the processes it calls,
   current elements and completed elements marked. A call activity opens the process it calls. */
(function () {
  "use strict";

  var NAMES = {
    eco_damage_claim: "索赔主流程", damage_assessment: "鉴定评估", consultation: "磋商",
    performance: "履行", pil_court_notice: "公益诉讼告知", lead_screening: "线索定期筛查"
  };

  function start() {
    var box = document.getElementById("diagram");
    if (!box || typeof BpmnJS === "undefined") return;
    var status = document.getElementById("diagram-status");
    var tabs = document.getElementById("diagram-tabs");
    var viewer = null;
    var data = null;

    function say(text) { if (status) status.textContent = text; }

    function mark() {
      var registry = viewer.get("elementRegistry");
      var canvas = viewer.get("canvas");
      var active = [];
      data.completed.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "is-completed"); });
      data.active.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "is-active"); active.push(id); } });
      return active;
    }

    // a whole procedure at fit-to-screen is too small to read: zoom in on the current step (全图 shows it all)
    function focus(active) {
      var canvas = viewer.get("canvas");
      canvas.zoom("fit-viewport", "auto");
      if (active.length && canvas.zoom() < 0.7) {
        canvas.zoom(0.9);
        canvas.scrollToElement(viewer.get("elementRegistry").get(active[0]), { top: 120, bottom: 120, left: 200, right: 200 });
      }
    }

    function show(pid) {
      var xml = pid === data.process_id ? data.xml : data.called[pid];
      if (!xml) return;
      var buttons = tabs.querySelectorAll("button[data-pid]");
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-pid") === pid ? "true" : "false");
      }
      viewer.importXML(xml).then(function () {
        var active = mark();
        focus(active);
        box.setAttribute("data-process", pid);
        say((NAMES[pid] || pid) + (active.length ? "：高亮" + active.length + "个当前环节（可拖动、滚轮缩放）" : "：该流程当前没有进行中的环节"));
      }).catch(function () {
        say("流程图无法显示");
      });
    }

    fetch(box.getAttribute("data-src"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (json) {
        data = json;
        box.innerHTML = "";
        viewer = new BpmnJS({ container: box });
        var pids = [data.process_id].concat(Object.keys(data.called || {}));
        pids.forEach(function (pid) {
          var b = document.createElement("button");
          b.type = "button";
          b.className = "button-small";
          b.setAttribute("data-pid", pid);
          b.textContent = NAMES[pid] || pid;
          b.addEventListener("click", function () { show(pid); });
          tabs.appendChild(b);
        });
        viewer.on("element.click", function (event) {
          var bo = event.element && event.element.businessObject;
          if (bo && bo.$type === "bpmn:CallActivity" && bo.calledElement && data.called[bo.calledElement]) {
            show(bo.calledElement);
          }
        });
        var whole = document.createElement("button");
        whole.type = "button";
        whole.className = "button-small button-quiet";
        whole.textContent = "全图";
        whole.addEventListener("click", function () { viewer.get("canvas").zoom("fit-viewport", "auto"); });
        tabs.appendChild(whole);
        show(data.process_id);
      })
      .catch(function () { box.innerHTML = ""; say("流程图加载失败，请刷新页面重试"); });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
