/* The alarm console, live: follows the community's alarm stream (server-sent events,
   GET /api/communities/{id}/alarms/stream) and keeps the table of alarms not yet closed
   current without a reload — a new alarm is added at the top, an acknowledged one shows
   who acknowledged it and offers "close", a closed one leaves. Ages and the SOS 15-minute
   clocks tick every second. Rows are built with textContent only: nothing from the
   stream is ever parsed as HTML. */
(function () {
  "use strict";
  var table = document.getElementById("open-alarms");
  if (!table) { return; }
  var body = table.tBodies[0];
  var community = table.getAttribute("data-community");
  var mayAct = table.getAttribute("data-may-act") === "1";
  var words = JSON.parse(table.getAttribute("data-words") || "{}");
  var places = JSON.parse(table.getAttribute("data-places") || "{}");
  var kinds = JSON.parse(table.getAttribute("data-kinds") || "{}");
  var KEYS = {zone: "防区", port: "端口", door: "防火门", system_address: "系统地址"};
  var sosLimit = Number(table.getAttribute("data-sos-limit") || "900") * 1000;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var live = document.getElementById("live-status");
  var none = document.getElementById("no-open");
  var SEVERITY = {critical: "紧急", alarm: "告警", warning: "预警", info: "提示"};
  var STATE = {open: "待处理", acknowledged: "已确认", closed: "已关闭"};

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /* Times in the console's zone (the server's SCG_TIMEZONE), written as the server does. */
  var clockFormat = new Intl.DateTimeFormat("en-CA", {
    timeZone: table.getAttribute("data-zone") || "Asia/Shanghai", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hourCycle: "h23"});
  function localTime(iso) {
    var p = {};
    clockFormat.formatToParts(new Date(iso)).forEach(function (x) { p[x.type] = x.value; });
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second;
  }
  function ageWords(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) { return s + " 秒前"; }
    if (s < 3600) { return Math.floor(s / 60) + " 分钟前"; }
    if (s < 86400) { return Math.floor(s / 3600) + " 小时前"; }
    return Math.floor(s / 86400) + " 天前";
  }
  /* As web/console/places.py place_text writes it. */
  function place(a) {
    var parts = [];
    var compound = a.compound ? (places[a.compound] || a.compound) : "";
    var building = a.building ? (places[a.building] || a.building) : "";
    if (compound && !(building && building.indexOf(compound) === 0)) { parts.push(compound); }
    if (building) { parts.push(building); }
    if (a.data && a.data.floor !== undefined && a.data.floor !== null && a.data.floor !== "") {
      parts.push(a.data.floor + " 层");
    }
    return parts.join(" / ") || "—";
  }
  function actionForm(a) {
    var act = a.state === "open" ? "acknowledge" : "close";
    var form = el("form", null, "inline act");
    form.method = "post";
    form.action = "/communities/" + encodeURIComponent(community) + "/alarms/" + a.id + "/" + act;
    var token = el("input"); token.type = "hidden"; token.name = "csrf_token"; token.value = csrf;
    var note = el("input"); note.type = "text"; note.name = "note"; note.maxLength = 2000;
    note.placeholder = "备注（可选）"; note.setAttribute("aria-label", "备注");
    var button = el("button", act === "acknowledge" ? "确认" : "关闭", act);
    button.type = "submit";
    form.appendChild(token); form.appendChild(note); form.appendChild(button);
    return form;
  }
  function stateCell(a) {
    var td = el("td", null, "state");
    td.appendChild(el("span", STATE[a.state] || a.state, "badge a-" + a.state));
    if (a.active === false) { td.appendChild(document.createTextNode(" ")); td.appendChild(el("span", "已消除", "badge s-online")); }
    if (a.acknowledged_by) {
      td.appendChild(el("span", a.acknowledged_by + " " + localTime(a.acknowledged_at).slice(11) +
        (a.acknowledged_note ? "：" + a.acknowledged_note : ""), "sub"));
    }
    if (a.type === "sos_pressed" && a.state === "open") {
      var clock = el("span", "", "sos-clock");
      clock.setAttribute("data-deadline", new Date(new Date(a.raised_at).getTime() + sosLimit).toISOString());
      td.appendChild(clock);
    }
    return td;
  }
  /* An SOS button's resident (masked, as the alarm list serves it to this user): who
     to call and where, filled in once the list answers. */
  function resident(a, tr) {
    if (!a.resident || !window.fetch) { return; }
    var url = "/api/communities/" + encodeURIComponent(community) + "/alarms?type=" +
      encodeURIComponent(a.type) + "&since=" + encodeURIComponent(a.raised_at) + "&limit=50";
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) {
        var found = list.filter(function (x) { return x.id === a.id; })[0];
        var who = found && found.resident_contact;
        if (!who || !tr.parentNode) { return; }
        tr.cells[2].appendChild(el("span", "住户 " + (who.name || "—") + " " + (who.phone || ""),
                                   "sub resident"));
        if (who.room && tr.cells[3].textContent === "—") { tr.cells[3].textContent = who.room; }
      })
      .catch(function () { /* the row stands without it */ });
  }
  function row(a) {
    var tr = el("tr");
    tr.id = "alarm-" + a.id;
    tr.setAttribute("data-alarm", a.id);
    tr.setAttribute("data-state", a.state);
    tr.setAttribute("data-type", a.type);
    var sev = el("td"); sev.appendChild(el("span", SEVERITY[a.severity] || a.severity, "badge sev-" + a.severity));
    var type = el("td", words[a.type] || a.type);
    if (a.key) {
      var parts = a.key.split("=");
      type.appendChild(el("span", parts.length > 1 ? (KEYS[parts[0]] || parts[0]) + " " + parts.slice(1).join("=") : a.key, "sub"));
    }
    var device = el("td");
    var link = el("a", a.device_name || a.device);
    link.href = "/communities/" + encodeURIComponent(community) + "/devices/" + encodeURIComponent(a.device);
    device.appendChild(link);
    if (a.device_kind) { device.appendChild(el("span", kinds[a.device_kind] || a.device_kind, "sub")); }
    var age = el("td", ageWords(Date.now() - new Date(a.raised_at).getTime()), "nowrap age");
    age.setAttribute("data-since", a.raised_at);
    var act = el("td");
    if (mayAct && a.state !== "closed") { act.appendChild(actionForm(a)); }
    [sev, type, device, el("td", place(a)), el("td", localTime(a.raised_at), "nowrap"), age,
     stateCell(a), act].forEach(function (td) { tr.appendChild(td); });
    return tr;
  }
  function changed(change) {
    var a = change.alarm;
    var existing = document.getElementById("alarm-" + a.id);
    if (a.state === "closed") {
      if (existing) { existing.parentNode.removeChild(existing); }
    } else {
      var fresh = row(a);
      if (existing) {
        body.replaceChild(fresh, existing);
        resident(a, fresh);
      } else {
        fresh.className = "alarm-new";
        body.insertBefore(fresh, body.firstChild);
        resident(a, fresh);
      }
    }
    if (none) { none.hidden = body.rows.length > 0; }
    tick();
  }
  function tick() {
    var now = Date.now();
    Array.prototype.forEach.call(table.querySelectorAll("td.age[data-since]"), function (td) {
      td.textContent = ageWords(now - new Date(td.getAttribute("data-since")).getTime());
    });
    Array.prototype.forEach.call(table.querySelectorAll(".sos-clock[data-deadline]"), function (c) {
      var left = Math.round((new Date(c.getAttribute("data-deadline")).getTime() - now) / 1000);
      var abs = Math.abs(left);
      c.textContent = (left >= 0 ? "剩余 " : "已超时 ") + Math.floor(abs / 60) + ":" + pad(abs % 60);
      c.classList.toggle("late", left < 0);
    });
  }
  function follow() {
    if (!window.EventSource) { live.textContent = "浏览器不支持实时更新，请手动刷新"; return; }
    var source = new EventSource("/api/communities/" + encodeURIComponent(community) + "/alarms/stream");
    source.onopen = function () { live.className = "live on"; live.textContent = "实时"; };
    source.onerror = function () { live.className = "live off"; live.textContent = "连接中断，自动重连中…"; };
    source.addEventListener("alarm", function (event) {
      try { changed(JSON.parse(event.data)); } catch (err) { live.textContent = "收到无法读取的更新"; }
    });
  }
  tick();
  window.setInterval(tick, 1000);
  follow();
})();
