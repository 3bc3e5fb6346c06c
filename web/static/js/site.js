/* eco-claims pages: repeated items, conditional fields, amounts, and 统一社会信用代码 / 身份证号码 checked as typed.
   No inline scripts (the Content-Security-Policy forbids them): everything hangs on data- attributes. */
(function () {
  "use strict";

  var USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  var ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var ID_CHECK = "10X98765432";

  function usccProblem(code) {
    if (code.length !== 18) return "应为18位";
    for (var i = 0; i < 18; i++) {
      if (USCC_CHARS.indexOf(code.charAt(i)) < 0) return "含有无效字符（不使用 I、O、Z、S、V 及小写字母）";
    }
    var sum = 0;
    for (var j = 0; j < 17; j++) sum += USCC_CHARS.indexOf(code.charAt(j)) * USCC_WEIGHTS[j];
    var expected = USCC_CHARS.charAt((31 - (sum % 31)) % 31);
    return code.charAt(17) === expected ? "" : "校验码不正确";
  }

  function idProblem(code) {
    if (!/^[0-9]{17}[0-9X]$/.test(code)) return "应为18位，前17位为数字，末位为数字或 X";
    var y = +code.substr(6, 4), m = +code.substr(10, 2), d = +code.substr(12, 2);
    var born = new Date(y, m - 1, d);
    if (born.getFullYear() !== y || born.getMonth() !== m - 1 || born.getDate() !== d) return "出生日期无效";
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += (+code.charAt(i)) * ID_WEIGHTS[i];
    return code.charAt(17) === ID_CHECK.charAt(sum % 11) ? "" : "校验码不正确";
  }

  function checkCode(input, typed) {
    var live = document.getElementById(input.id + "-live");
    if (!live) return;
    var server = document.getElementById(input.id + "-error");
    if (server && !typed) return;  // the server's message says it already
    if (server) server.hidden = true;  // edited since: the check as typed takes over
    var value = input.value.trim();
    var problem = "";
    if (value) problem = input.dataset.check === "uscc" ? usccProblem(value) : idProblem(value);
    var label = input.dataset.check === "uscc" ? "统一社会信用代码" : "公民身份证号码";
    live.textContent = problem ? label + problem : "";
    live.hidden = !problem;
  }

  function formatMoney(input) {
    var raw = input.value.replace(/[,，\s]/g, "");
    if (/^[0-9]+(\.[0-9]{0,2})?$/.test(raw)) input.value = (Math.round(parseFloat(raw) * 100) / 100).toFixed(2);
  }

  function valueOf(form, name) {
    var inputs = form.querySelectorAll("[name]");
    var values = [];
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.name !== name || el.disabled) continue;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) continue;
      values.push(el.value);
    }
    return values;
  }

  function applyConditions(form) {
    var blocks = form.querySelectorAll("[data-show-if]");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      if (block.closest("template")) continue;
      var rules = JSON.parse(block.getAttribute("data-show-if"));
      var show = rules.some(function (rule) {
        return valueOf(form, rule.field).some(function (v) { return rule.values.indexOf(v) >= 0; });
      });
      block.hidden = !show;
      var inputs = block.querySelectorAll("input, select, textarea");
      for (var j = 0; j < inputs.length; j++) inputs[j].disabled = !show;
    }
  }

  function renumber(repeat) {
    var items = repeat.querySelectorAll(":scope > .repeat-items > .repeat-item");
    for (var i = 0; i < items.length; i++) {
      var no = items[i].querySelector(".repeat-no");
      if (no) no.textContent = String(i + 1);
    }
  }

  function addItem(repeat) {
    var template = repeat.querySelector(":scope > template");
    var index = parseInt(repeat.getAttribute("data-next-index") || "0", 10);
    repeat.setAttribute("data-next-index", String(index + 1));
    var html = template.innerHTML.split("__i__").join(String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var item = holder.firstElementChild;
    repeat.querySelector(":scope > .repeat-items").appendChild(item);
    renumber(repeat);
    var form = repeat.closest("form");
    if (form) applyConditions(form);
    var first = item.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  function removeItem(button) {
    var item = button.closest(".repeat-item");
    var repeat = button.closest("[data-repeat]");
    var next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    renumber(repeat);
    var focus = next ? next.querySelector("input, select, textarea") : repeat.querySelector("[data-add-item]");
    if (focus) focus.focus();
  }

  function init(root) {
    var forms = root.querySelectorAll("form[data-form]");
    for (var i = 0; i < forms.length; i++) applyConditions(forms[i]);
    var codes = root.querySelectorAll("input[data-check]");
    for (var j = 0; j < codes.length; j++) if (codes[j].value) checkCode(codes[j], false);
    var summary = root.querySelector("#error-summary");
    if (summary) summary.focus();
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-item]");
    if (add) { event.preventDefault(); addItem(add.closest("[data-repeat]")); return; }
    var remove = event.target.closest("[data-remove-item]");
    if (remove) { event.preventDefault(); removeItem(remove); }
  });
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-form]");
    if (form) applyConditions(form);
    if (event.target.matches && event.target.matches("input[data-money]")) formatMoney(event.target);
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-check]")) checkCode(event.target, true);
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
