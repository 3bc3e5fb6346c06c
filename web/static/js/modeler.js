/* The diagram editor (/models): open a version in the bundled bpmn-js Modeler (window.EcoModeler, with the
   properties panel and the spiffworkflow moddle descriptor), save = validate on the server (every problem listed
   with its element, the elements marked) → replay on past cases (report: identical / diverged, per case where and
   how) → deploy (enabled only after a replay of exactly this XML). Calls the page's JSON routes with the session
   cookie and the CSRF token of the page (never the API token). */
(function () {
  "use strict";

  function csrf() {
    var attr = document.body.getAttribute("hx-headers") || "{}";
    try { return JSON.parse(attr)["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  function start() {
    var app = document.getElementById("modeler-app");
    if (!app || typeof window.EcoModeler === "undefined") return;
    var base = app.getAttribute("data-base");
    var status = document.getElementById("modeler-status");
    var title = document.getElementById("modeler-title");
    var saveButton = document.getElementById("modeler-save");
    var deployButton = document.getElementById("modeler-deploy");
    var problemsBox = document.getElementById("modeler-problems");
    var problemList = document.getElementById("modeler-problem-list");
    var replayBox = document.getElementById("modeler-replay");
    var modeler = window.EcoModeler.create({
      container: document.getElementById("modeler-canvas"),
      propertiesPanel: document.getElementById("modeler-properties"),
      lint: true,
      choices: JSON.parse(app.getAttribute("data-choices") || "{}")
    });
    var current = null;   // {id, version}
    var replayed = null;  // {xml, replay_id}
    var marked = [];

    function say(text) { status.textContent = text; }

    function call(method, path, body) {
      var init = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.headers["X-CSRFToken"] = csrf();
        init.body = JSON.stringify(body);
      }
      return fetch(base + path, init).then(function (resp) {
        return resp.json().catch(function () { return { message: "服务器返回了无法识别的内容（" + resp.status + "）" }; })
          .then(function (data) { return { ok: resp.ok, status: resp.status, data: data }; });
      });
    }

    function el(tag, text, cls) {
      var node = document.createElement(tag);
      if (text !== undefined && text !== null) node.textContent = text;
      if (cls) node.className = cls;
      return node;
    }

    function clearMarks() {
      var canvas = modeler.get("canvas");
      marked.forEach(function (id) { try { canvas.removeMarker(id, "has-problem"); } catch (e) { /* gone */ } });
      marked = [];
    }

    function elementLabel(id) {
      var found = modeler.get("elementRegistry").get(id);
      var name = found && found.businessObject && found.businessObject.name;
      return name ? name + "（" + id + "）" : id;
    }

    function showProblems(problems) {
      clearMarks();
      problemList.textContent = "";
      problemsBox.hidden = problems.length === 0;
      var registry = modeler.get("elementRegistry");
      var canvas = modeler.get("canvas");
      problems.forEach(function (p) {
        var li = el("li");
        li.appendChild(el("code", p.process + " · " + elementLabel(p.element)));
        li.appendChild(document.createTextNode("：" + p.message));
        li.setAttribute("data-element", p.element);
        problemList.appendChild(li);
        if (p.process === current.id && registry.get(p.element)) {
          canvas.addMarker(p.element, "has-problem");
          marked.push(p.element);
        }
      });
    }

    function describeDivergence(d) {
      var where = d.element ? elementLabel(d.element) : "";
      if (d.process && current && d.process !== current.id) where = d.process + " · " + where;
      if (d.step) where += "（第" + d.step + "步" + (d.at ? "，" + d.at.slice(0, 16).replace("T", " ") : "") + "）";
      return { where: where, how: d.message + (d.event ? "（" + d.event + "）" : "") };
    }

    function showReplay(report) {
      replayBox.hidden = false;
      var s = report.summary;
      document.getElementById("replay-summary").textContent =
        "共回放" + s.cases + "件案件：" + s.identical + "件一致，" + s.diverged + "件不同。";
      var body = document.getElementById("replay-diverged");
      body.textContent = "";
      body.parentElement.hidden = report.diverged.length === 0;
      report.diverged.forEach(function (c) {
        var first = true;
        var rows = c.divergences.length ? c.divergences : [{ kind: "", element: "", message: "结果不同" }];
        rows.forEach(function (d) {
          var tr = el("tr");
          var info = describeDivergence(d);
          tr.appendChild(el("td", first ? (c.number || ("#" + c.case_id)) + " " + (c.title || "") : ""));
          tr.appendChild(el("td", first ? (c.status || "") : ""));
          tr.appendChild(el("td", info.where));
          tr.appendChild(el("td", info.how));
          body.appendChild(tr);
          first = false;
        });
      });
    }

    function renderList(items) {
      var list = document.getElementById("model-list");
      list.textContent = "";
      items.forEach(function (m) {
        var li = el("li", null, "model");
        li.setAttribute("data-process", m.id);
        var name = el("div", m.name + " ", "model-name");
        name.appendChild(el("code", m.id));
        li.appendChild(name);
        var ul = el("ul", null, "model-versions");
        m.versions.slice().reverse().forEach(function (v) {
          var row = el("li", null, "model-version");
          row.setAttribute("data-process", m.id);
          row.setAttribute("data-version", String(v.version));
          if (current && current.id === m.id && current.version === v.version) row.classList.add("is-open");
          var b = el("button", "第" + v.version + "版", "version-link open-version");
          b.type = "button";
          b.setAttribute("data-process", m.id);
          b.setAttribute("data-version", String(v.version));
          row.appendChild(b);
          row.appendChild(document.createTextNode(" "));
          row.appendChild(el("span", v.deployed_at.slice(0, 16).replace("T", " ") + " · " + v.deployed_by + " · " +
                                     v.cases + "件", "muted"));
          var tools = el("span", null, "version-tools");
          var link = el("a", "下载");
          link.href = base + "/" + encodeURIComponent(m.id) + "/versions/" + v.version + ".bpmn";
          link.setAttribute("download", "");
          tools.appendChild(link);
          if (v.version > 1) {
            tools.appendChild(document.createTextNode(" · "));
            var d = el("button", "与上一版比较", "version-link diff-version");
            d.type = "button";
            d.setAttribute("data-process", m.id);
            d.setAttribute("data-version", String(v.version));
            tools.appendChild(d);
          }
          row.appendChild(document.createTextNode(" "));
          row.appendChild(tools);
          ul.appendChild(row);
        });
        li.appendChild(ul);
        list.appendChild(li);
      });
    }

    function open(id, version) {
      say("正在打开……");
      return call("GET", "/" + encodeURIComponent(id) + "/versions/" + version + ".json").then(function (r) {
        if (!r.ok) { say(r.data.message || "打开失败"); return; }
        return modeler.importXML(r.data.xml).then(function () {
          current = { id: id, version: version, name: r.data.name };
          replayed = null;
          deployButton.disabled = true;
          saveButton.disabled = false;
          problemsBox.hidden = true;
          replayBox.hidden = true;
          title.textContent = r.data.name + "（" + id + "）第" + version + "版";
          document.querySelectorAll(".model-version").forEach(function (row) {
            row.classList.toggle("is-open", row.getAttribute("data-process") === id &&
                                            row.getAttribute("data-version") === String(version));
          });
          var canvas = modeler.get("canvas");
          canvas.zoom("fit-viewport");
          if (canvas.zoom() < 0.6) {  // a whole procedure is too small to read: start at the beginning, readable
            var box = canvas.viewbox();
            var width = box.outer.width / 0.8, height = box.outer.height / 0.8;
            canvas.viewbox({ x: box.inner.x - 140,  // clear of the palette
                             y: box.inner.y + box.inner.height / 2 - height / 2,
                             width: width, height: height });
          }
          say("已打开");
        });
      }).catch(function (e) { say("打开失败：" + e.message); });
    }

    function xmlText(text) {
      return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
    }

    // a new process: a start event, a flow and an end event, drawn; deployed as version 1 after validate + replay
    function create(id, name) {
      var n = xmlText(name);
      var xml = '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" ' +
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" ' +
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" ' +
        'id="definitions_' + id + '" targetNamespace="http://eco-claims.example/bpmn">' +
        '<bpmn:process id="' + id + '" name="' + n + '" isExecutable="true">' +
        '<bpmn:startEvent id="' + id + '_started" name="开始"><bpmn:outgoing>' + id + '_flow</bpmn:outgoing></bpmn:startEvent>' +
        '<bpmn:sequenceFlow id="' + id + '_flow" sourceRef="' + id + '_started" targetRef="' + id + '_ended"/>' +
        '<bpmn:endEvent id="' + id + '_ended" name="结束"><bpmn:incoming>' + id + '_flow</bpmn:incoming></bpmn:endEvent>' +
        '</bpmn:process>' +
        '<bpmndi:BPMNDiagram id="' + id + '_diagram"><bpmndi:BPMNPlane id="' + id + '_plane" bpmnElement="' + id + '">' +
        '<bpmndi:BPMNShape id="' + id + '_started_di" bpmnElement="' + id + '_started"><dc:Bounds x="180" y="160" width="36" height="36"/></bpmndi:BPMNShape>' +
        '<bpmndi:BPMNShape id="' + id + '_ended_di" bpmnElement="' + id + '_ended"><dc:Bounds x="400" y="160" width="36" height="36"/></bpmndi:BPMNShape>' +
        '<bpmndi:BPMNEdge id="' + id + '_flow_di" bpmnElement="' + id + '_flow"><di:waypoint x="216" y="178"/><di:waypoint x="400" y="178"/></bpmndi:BPMNEdge>' +
        '</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>';
      return modeler.importXML(xml).then(function () {
        current = { id: id, version: null, name: name };
        replayed = null;
        deployButton.disabled = true;
        saveButton.disabled = false;
        problemsBox.hidden = true;
        replayBox.hidden = true;
        title.textContent = name + "（" + id + "）新流程，尚未部署";
        document.querySelectorAll(".model-version.is-open").forEach(function (row) { row.classList.remove("is-open"); });
        say("已新建：画好后保存（校验并回放），再部署为第1版");
      }).catch(function (e) { say("新建失败：" + e.message); });
    }

    // a readable diff between a version and the one before (elements added / removed / changed, properties changed)
    function showDiff(id, version) {
      call("GET", "/" + encodeURIComponent(id) + "/diff?from=" + (version - 1) + "&to=" + version).then(function (r) {
        var box = document.getElementById("modeler-diff");
        var list = document.getElementById("diff-list");
        box.hidden = false;
        list.textContent = "";
        if (!r.ok) { list.appendChild(el("li", r.data.message || "比较失败")); return; }
        var data = r.data;
        document.getElementById("diff-title").textContent =
          "版本比较：" + id + " 第" + (version - 1) + "版 → 第" + version + "版";
        function name(e) { return (e.type_label || e.type) + " " + (e.name || "") + "（" + e.id + "）"; }
        data.process_changes.forEach(function (c) { list.appendChild(el("li", c.label + "：" + c.before + " → " + c.after)); });
        data.added.forEach(function (e) { list.appendChild(el("li", "新增 " + name(e))); });
        data.removed.forEach(function (e) { list.appendChild(el("li", "删除 " + name(e))); });
        data.changed.forEach(function (e) {
          list.appendChild(el("li", "修改 " + name(e) + "：" + e.changes.map(function (c) {
            return c.label + " " + (c.before == null ? "（无）" : c.before) + " → " + (c.after == null ? "（无）" : c.after);
          }).join("；")));
        });
        if (!list.children.length) list.appendChild(el("li", data.layout_only ? "只改了布局" : "没有差别"));
      });
    }

    // the replay runs in the background: its progress is polled and shown as a bar, then the report
    function poll(job) {
      var bar = document.getElementById("replay-progress");
      bar.hidden = false;
      bar.removeAttribute("value");
      return new Promise(function (resolve) {
        function tick() {
          call("GET", "/changes/replay/" + encodeURIComponent(job)).then(function (r) {
            if (!r.ok) { bar.hidden = true; say(r.data.message || "回放失败"); resolve(null); return; }
            var s = r.data;
            if (s.total) { bar.max = s.total; bar.value = s.done; say("正在回放：" + s.done + " / " + s.total + "件"); }
            if (!s.finished) { window.setTimeout(tick, 300); return; }
            bar.hidden = true;
            if (s.error) { say(s.error.message || "回放失败"); resolve(null); return; }
            resolve(s.result);
          }).catch(function (e) { bar.hidden = true; say("回放失败：" + e.message); resolve(null); });
        }
        tick();
      });
    }

    function save() {
      if (!current) return;
      saveButton.disabled = true;
      deployButton.disabled = true;
      replayed = null;
      replayBox.hidden = true;
      say("正在校验……");
      var files = {};
      modeler.saveXML({ format: true }).then(function (out) {
        files[current.id] = out.xml;
        return call("POST", "/changes/validate", { files: files }).then(function (r) {
          if (!r.ok) { showProblems([]); say(r.data.message || "校验失败"); return; }
          showProblems(r.data.problems);
          if (r.data.problems.length) {
            say("校验未通过：" + r.data.problems.length + "处问题");
            return;
          }
          say("校验通过，正在用历史案件回放……");
          return call("POST", "/changes/replay", { files: files }).then(function (rr) {
            if (!rr.ok) { say(rr.data.message || "回放失败"); return; }
            return poll(rr.data.job).then(function (report) {
              if (!report) return;
              showReplay(report);
              replayed = { xml: out.xml, replay_id: report.replay_id };
              deployButton.disabled = false;
              say("回放完成：" + report.summary.identical + "件一致，" + report.summary.diverged + "件不同");
            });
          });
        });
      }).catch(function (e) { say("保存失败：" + e.message); })
        .then(function () { saveButton.disabled = !current; });
    }

    function deploy() {
      if (!current || !replayed) return;
      deployButton.disabled = true;
      say("正在部署……");
      var files = {};
      files[current.id] = replayed.xml;
      call("POST", "/changes/deploy", { files: files, replay_id: replayed.replay_id }).then(function (r) {
        if (!r.ok) { say(r.data.message || "部署失败"); deployButton.disabled = false; return; }
        var mine = r.data.versions.filter(function (v) { return v.id === current.id; })[0];
        if (mine) current.version = mine.version;
        replayed = null;
        title.textContent = current.name + "（" + current.id + "）第" + current.version + "版";
        say("已部署：" + r.data.versions.map(function (v) { return v.id + " 第" + v.version + "版"; }).join("、"));
        return call("GET", "/data").then(function (list) { if (list.ok) renderList(list.data.items); });
      }).catch(function (e) { say("部署失败：" + e.message); deployButton.disabled = false; });
    }

    // any edit after a replay needs a new replay before a deployment
    modeler.on("commandStack.changed", function () {
      if (replayed) { replayed = null; deployButton.disabled = true; say("已修改：请重新保存（校验并回放）后再部署"); }
    });
    document.getElementById("model-list").addEventListener("click", function (ev) {
      var b = ev.target.closest(".open-version");
      if (b) open(b.getAttribute("data-process"), Number(b.getAttribute("data-version")));
      var d = ev.target.closest(".diff-version");
      if (d) showDiff(d.getAttribute("data-process"), Number(d.getAttribute("data-version")));
    });
    problemList.addEventListener("click", function (ev) {
      var li = ev.target.closest("li[data-element]");
      var found = li && modeler.get("elementRegistry").get(li.getAttribute("data-element"));
      if (found) { modeler.get("selection").select(found); modeler.get("canvas").scrollToElement(found); }
    });
    document.getElementById("new-process").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var id = document.getElementById("new-process-id").value.trim();
      var name = document.getElementById("new-process-name").value.trim();
      if (!/^[a-z][a-z0-9_]{0,79}$/.test(id) || !name) { say("请填写流程 id（小写字母开头）和名称"); return; }
      if (document.querySelector('.model[data-process="' + id + '"]')) { say("流程 " + id + " 已存在，请打开它的版本"); return; }
      create(id, name);
    });
    saveButton.addEventListener("click", save);
    deployButton.addEventListener("click", deploy);
    window.ecoModeler = modeler;  // for the browser test and the console

    var params = new URLSearchParams(window.location.search);
    if (params.get("process")) open(params.get("process"), Number(params.get("version") || 0) || latest(params.get("process")));
  }

  function latest(id) {
    var rows = document.querySelectorAll('.model-version[data-process="' + id + '"]');
    return rows.length ? Number(rows[0].getAttribute("data-version")) : 1;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
