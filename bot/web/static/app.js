/* The dashboard page: read-only views of the plan, from the bot's API. Every call carries
   Telegram's signed initData (Authorization: tma <initData>); every text from the API is put
   in the page as text, never as HTML. No build step, no library. */
"use strict";

(function () {
  const TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js";
  const FALLBACK = {
    unauthorized: "Ábralo desde el botón del bot en Telegram. · Open it from the bot's button in Telegram.",
    error: "Algo salió mal. · Something went wrong.",
  };
  const state = { texts: {}, boot: null, plan: null, tab: "matrix", webApp: null, chartUrl: null };
  const $ = (id) => document.getElementById(id);
  const ALL = "all"; // the plan picker's choice of every plan together

  function t(key) {
    return state.texts[key] || FALLBACK[key] || key;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === "") continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function say(text) {
    $("message").textContent = text || "";
  }

  /* -- Telegram ------------------------------------------------------------------------- */

  function withTelegram(start) {
    if (window.Telegram && window.Telegram.WebApp) return start(window.Telegram.WebApp);
    const script = document.createElement("script");
    script.src = TELEGRAM_SCRIPT;
    script.onload = () => start(window.Telegram && window.Telegram.WebApp);
    script.onerror = () => start(null);
    document.head.append(script);
  }

  function applyTheme(webApp) {
    const params = (webApp && webApp.themeParams) || {};
    const root = document.documentElement;
    let any = false;
    for (const [name, value] of Object.entries(params)) {
      if (typeof value !== "string") continue;
      root.style.setProperty("--tg-theme-" + name.replace(/_/g, "-"), value);
      any = true;
    }
    root.classList.toggle("tg", any);
    if (webApp && webApp.colorScheme) root.dataset.scheme = webApp.colorScheme;
  }

  function openInChat(link) {
    const webApp = state.webApp;
    if (webApp && typeof webApp.openTelegramLink === "function") webApp.openTelegramLink(link);
    else window.open(link, "_blank", "noopener");
  }

  /* -- The API -------------------------------------------------------------------------- */

  class HttpError extends Error {
    constructor(status, text) {
      super(text || String(status));
      this.status = status;
    }
  }

  async function call(path, params, as) {
    const url = new URL("../api/" + path, window.location.href);
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== "" && value !== null && value !== undefined) url.searchParams.set(name, value);
    }
    const response = await fetch(url, {
      headers: { Authorization: "tma " + ((state.webApp && state.webApp.initData) || "") },
      cache: "no-store",
    });
    if (!response.ok) {
      let text = "";
      try {
        text = (await response.json()).error || "";
      } catch (_ignored) {
        text = "";
      }
      throw new HttpError(response.status, text);
    }
    return as === "blob" ? response.blob() : response.json();
  }

  function failed(error) {
    if (error instanceof HttpError && error.status === 401) {
      say(t("unauthorized"));
      for (const id of ["tabs", "matrix-view", "summary-view", "detail-view", "plan"]) $(id).hidden = true;
      return;
    }
    say(error instanceof HttpError && error.message && error.status !== 500 ? error.message : t("error"));
  }

  /* -- Start ---------------------------------------------------------------------------- */

  function translatePage() {
    document.documentElement.lang = state.boot.language;
    document.title = t("title");
    $("title").textContent = t("title");
    $("tab-matrix").textContent = t("matrix");
    $("tab-summary").textContent = t("summary");
    $("back").textContent = "‹ " + t("back");
    $("footer").textContent = t("read_only");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  }

  function options(select, items, anyLabel) {
    select.replaceChildren();
    if (anyLabel !== null) select.append(el("option", { value: "" }, anyLabel));
    for (const [value, label] of items) select.append(el("option", { value: String(value) }, label));
  }

  function fillFilters() {
    const form = $("filters");
    options(form.elements.status, state.boot.statuses.map((s) => [s.value, s.label]), t("any"));
    options(form.elements.review, state.boot.reviews.map((r) => [r.value, r.label]), t("any"));
    options(form.elements.sort, state.boot.sorts.map((s) => [s.value, s.label]), null);
  }

  async function start(webApp) {
    state.webApp = webApp;
    applyTheme(webApp);
    if (webApp) {
      if (typeof webApp.ready === "function") webApp.ready();
      if (typeof webApp.expand === "function") webApp.expand();
      if (typeof webApp.onEvent === "function") webApp.onEvent("themeChanged", () => applyTheme(webApp));
    }
    if (!webApp || !webApp.initData) {
      say(t("unauthorized"));
      return;
    }
    say(t("loading"));
    try {
      state.boot = await call("plans");
    } catch (error) {
      failed(error);
      return;
    }
    state.texts = state.boot.i18n;
    translatePage();
    fillFilters();
    if (!state.boot.plans.length) {
      say(t("no_plans"));
      return;
    }
    const picker = $("plan");
    const choices = state.boot.plans.map((p) => [p.id, p.title]);
    if (choices.length > 1) choices.push([ALL, t("all_plans")]);
    options(picker, choices, null);
    picker.hidden = state.boot.plans.length < 2;
    picker.setAttribute("aria-label", t("plan"));
    picker.addEventListener("change", () =>
      choosePlan(picker.value === ALL ? ALL : Number(picker.value)));
    $("tabs").hidden = false;
    for (const button of $("tabs").querySelectorAll("button")) {
      button.addEventListener("click", () => show(button.dataset.tab));
    }
    $("filters").addEventListener("change", () => loadMatrix());
    $("filters").addEventListener("submit", (event) => event.preventDefault());
    $("filters").addEventListener("reset", () => setTimeout(loadMatrix, 0));
    $("back").addEventListener("click", () => show(state.tab));
    if (webApp.BackButton && typeof webApp.BackButton.onClick === "function") {
      webApp.BackButton.onClick(() => show(state.tab));
    }
    await choosePlan(state.boot.plans[0].id);
  }

  async function choosePlan(planId) {
    state.plan = planId;
    $("plan").value = String(planId);
    $("filters").reset();
    // Every plan together: the summary only (the matrix is one plan's table).
    const matrixTab = $("tabs").querySelector('[data-tab="matrix"]');
    if (matrixTab) matrixTab.hidden = planId === ALL;
    await show(planId === ALL ? "summary" : state.tab);
  }

  /** The API path of the chosen plan's summary or chart, or of every plan's. */
  function summaryPath(what) {
    return state.plan === ALL ? what : "plans/" + state.plan + "/" + what;
  }

  async function show(tab) {
    state.tab = tab;
    for (const button of $("tabs").querySelectorAll("button")) {
      button.classList.toggle("active", button.dataset.tab === tab);
    }
    $("detail-view").hidden = true;
    $("matrix-view").hidden = tab !== "matrix";
    $("summary-view").hidden = tab !== "summary";
    $("tabs").hidden = false;
    const back = state.webApp && state.webApp.BackButton;
    if (back && typeof back.hide === "function") back.hide();
    if (tab === "matrix") await loadMatrix();
    else await loadSummary();
  }

  /* -- The matrix ----------------------------------------------------------------------- */

  function filterValues() {
    const form = $("filters").elements;
    return {
      status: form.status.value,
      review: form.review.value,
      unit: form.unit.value,
      block: form.block.value,
      since: form.since.value,
      sort: form.sort.value,
      order: form.order.checked ? "desc" : "",
      overdue: form.overdue.checked ? "1" : "",
    };
  }

  function keepChoices(select, items) {
    const chosen = select.value;
    options(select, items, t("any"));
    select.value = items.some(([value]) => String(value) === chosen) ? chosen : "";
  }

  let matrixRequest = 0;
  async function loadMatrix() {
    const mine = ++matrixRequest;
    const table = $("matrix");
    table.setAttribute("aria-busy", "true");
    let body;
    try {
      body = await call("plans/" + state.plan + "/matrix", filterValues());
    } catch (error) {
      if (mine === matrixRequest) failed(error);
      return;
    }
    if (mine !== matrixRequest) return; // a later filter won
    say("");
    const form = $("filters").elements;
    keepChoices(form.unit, body.choices.units.map((u) => [u.id, u.name]));
    keepChoices(form.block, body.choices.blocks.map((b) => [b, b]));
    const planInfo = state.boot.plans.find((p) => p.id === state.plan);
    $("count").textContent = t("shown")
      .replace("{n}", body.total)
      .replace("{total}", planInfo ? planInfo.actions : body.total);
    const rows = body.rows.map(matrixRow);
    if (!rows.length) rows.push(el("tr", { class: "none" }, el("td", { colspan: 8 }, t("none"))));
    table.tBodies[0].replaceChildren(...rows);
    table.setAttribute("aria-busy", "false");
    table.dataset.loaded = String(mine);
  }

  function statusPill(row) {
    const pills = [el("span", { class: "pill " + row.status }, row.status_label)];
    if (row.overdue) pills.push(" ", el("span", { class: "pill overdue" }, t("overdue")));
    return pills;
  }

  function matrixRow(row) {
    const comment = row.latest_comment;
    const cell = (key, content, extra) => {
      const classes = [extra || "", content === "" ? "empty" : ""].join(" ").trim();
      return el("td", { "data-label": t(key), class: classes || null }, content);
    };
    return el(
      "tr",
      { "data-id": row.id, "data-ref": row.ref, onclick: () => openAction(row.id) },
      cell("action", [el("span", { class: "ref" }, row.ref), el("span", { class: "text" }, row.text)], "first"),
      cell("deadline", [row.deadline || "", el("div", { class: "small" }, row.deadline_words)]),
      cell("units", row.units.join(", ")),
      cell("status", statusPill(row)),
      cell("review", el("span", { class: "pill review " + row.review_status }, row.review_label)),
      cell("latest_comment", comment ? [el("div", { class: "small" }, comment.author + " · " + comment.when), comment.text] : ""),
      cell("evidence", row.evidence ? "📎 " + row.evidence : "", "num"),
      cell("last_change", row.last_change_text),
    );
  }

  /* -- The summary ---------------------------------------------------------------------- */

  function meter(counts, total) {
    const parts = ["completed", "in_progress", "not_started", "not_applicable"]
      .filter((status) => counts[status])
      .map((status) => {
        const part = el("span", { class: status });
        part.style.width = (100 * counts[status]) / total + "%"; // CSSOM: allowed by the CSP
        return part;
      });
    return el("div", { class: "meter" }, parts);
  }

  async function loadSummary() {
    let body;
    try {
      body = await call(summaryPath("summary"));
    } catch (error) {
      failed(error);
      return;
    }
    say("");
    const figure = (label, value, extra) => el("div", { class: "figure " + (extra || "") }, el("b", null, value), label);
    $("figures").replaceChildren(
      figure(t("progress"), body.progress_text + " · " + body.completed + "/" + body.applicable),
      figure(t("total"), body.total),
      figure(t("overdue"), body.overdue, body.overdue ? "overdue" : ""),
      figure(t("stale"), body.stale),
      figure(t("conditional"), body.conditional),
    );
    $("scope").replaceChildren(...body.scope.map((line) => el("p", { class: "small" }, line)));
    $("legend").textContent = t("progress_legend") + " · " + body.as_of;
    $("statuses").replaceChildren(
      ...body.statuses.map((s) =>
        el("div", { class: "row", "data-status": s.status },
          el("span", null, s.label),
          meter({ [s.status]: s.count }, body.total || 1),
          el("b", null, s.count + " · " + s.percent_text)),
      ),
    );
    const group = (g) =>
      el("div", { class: "row" }, el("span", null, g.name), meter(g.counts, g.total || 1), el("b", null, g.progress_text, g.overdue ? el("span", { class: "late" }, " · " + g.overdue + " " + t("overdue").toLowerCase()) : null));
    const portfolio = state.plan === ALL;
    $("blocks-heading").textContent = t(portfolio ? "by_plan" : "by_block");
    $("blocks").replaceChildren(...(portfolio ? body.by_plan : body.by_block).map(group));
    $("units").replaceChildren(...body.by_unit.map(group));
    try {
      const blob = await call(summaryPath("chart.png"), null, "blob");
      if (state.chartUrl) URL.revokeObjectURL(state.chartUrl);
      state.chartUrl = URL.createObjectURL(blob);
      $("chart").src = state.chartUrl;
      $("chart").alt = t("chart");
      $("chart").hidden = false;
    } catch (_error) {
      $("chart").hidden = true;
    }
  }

  /* -- An action ------------------------------------------------------------------------ */

  function historyItem(entry) {
    const what = {
      comment: t("comment"),
      review_comment: t("review_comment"),
      status: t("status_change"),
      review_status: t("review_change"),
    }[entry.kind] || entry.kind;
    const change = entry.to ? (entry.from ? entry.from + " → " : "") + entry.to : "";
    return el(
      "li",
      { class: entry.kind },
      el("div", { class: "small" }, entry.when + " · " + entry.author + " · " + what),
      change ? el("div", null, change) : null,
      entry.text ? el("div", { class: "pre" }, entry.text) : null,
      entry.files.length ? el("div", { class: "small" }, "📎 " + entry.files.join(", ")) : null,
    );
  }

  async function openAction(actionId) {
    let body;
    try {
      body = await call("actions/" + actionId);
    } catch (error) {
      failed(error);
      return;
    }
    say("");
    const field = (key, value) => (value ? [el("dt", null, t(key)), el("dd", { class: "pre" }, value)] : []);
    const detail = $("detail");
    detail.replaceChildren(
      el("h2", null, t("action") + " " + body.ref),
      el("p", { class: "pre" }, body.text),
      el("p", null, statusPill(body), " ", el("span", { class: "pill review " + body.review_status }, body.review_label)),
      body.link ? el("button", { type: "button", class: "open-chat", onclick: () => openInChat(body.link) }, "💬 " + t("open_in_chat")) : null,
      el("dl", null,
        field("deadline", [body.deadline, body.deadline_words].filter(Boolean).join(" — ")),
        field("units", body.units.join(", ")),
        field("recommendation_text", body.recommendation),
        field("management_response", body.management_response),
        field("files", body.evidence.map((f) => f.name + " (" + f.author + ", " + f.when + ")").join("\n"))),
      el("h2", null, t("history")),
      body.history.length ? el("ol", { class: "history" }, body.history.map(historyItem)) : el("p", { class: "small" }, t("no_history")),
    );
    $("matrix-view").hidden = true;
    $("summary-view").hidden = true;
    $("tabs").hidden = true;
    $("detail-view").hidden = false;
    const back = state.webApp && state.webApp.BackButton;
    if (back && typeof back.show === "function") back.show();
    window.scrollTo(0, 0);
  }

  document.addEventListener("DOMContentLoaded", () => withTelegram(start));
})();
