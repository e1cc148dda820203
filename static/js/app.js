/* The console's only script besides htmx. No inline code anywhere (strict CSP), no eval.
 * - CSRF token on every htmx request (read from <meta name="csrf-token">)
 * - the browser's time zone in the `tz` cookie, so the server shows times in it
 * - polling cards pause while the tab is hidden and refresh when it comes back
 * - "Updated N seconds ago" on cards
 * - after a swap: announce in the live region, move focus to the new card or the first error
 * - a session that expired mid-htmx sends the whole page to the login form
 * - an htmx request that fails (4xx/5xx, which htmx does not swap, or no answer) is shown, not silent
 */
(function () {
  "use strict";

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  }

  document.documentElement.classList.add("js-enabled");

  // --- time zone cookie ------------------------------------------------------------------------
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* no Intl: the server's default zone applies */ }

  // --- CSRF ------------------------------------------------------------------------------------
  document.addEventListener("htmx:configRequest", function (evt) {
    var token = meta("csrf-token");
    if (token) { evt.detail.headers["X-CSRFToken"] = token; }
  });

  // --- polling: paused while hidden ------------------------------------------------------------
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-poll") && document.visibilityState === "hidden") {
      evt.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || !window.htmx) { return; }
    document.querySelectorAll("[data-poll]").forEach(function (card) {
      var age = card.querySelector("[data-age]");
      var seconds = Number(card.getAttribute("data-poll-seconds")) || 30;
      var fetched = age ? Date.parse(age.getAttribute("datetime")) : 0;
      if (!fetched || Date.now() - fetched > seconds * 1000) { window.htmx.trigger(card, "storage-refresh"); }
    });
  });

  // --- "Updated N seconds ago" -----------------------------------------------------------------
  var lang = document.documentElement.lang || undefined;
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  function ago(seconds) {
    if (!relative) { return Math.round(seconds) + " s"; }
    if (seconds < 60) { return relative.format(-Math.round(seconds), "second"); }
    if (seconds < 3600) { return relative.format(-Math.round(seconds / 60), "minute"); }
    return relative.format(-Math.round(seconds / 3600), "hour");
  }
  function refreshAges() {
    document.querySelectorAll("[data-age]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      var template = el.getAttribute("data-age-template");
      if (!at || !template) { return; }
      var seconds = Math.max(0, (Date.now() - at) / 1000);
      if (seconds < 10) { return; }  // the server's own "Updated just now" reads better than "now"
      el.textContent = template.replace("{ago}", ago(seconds));
    });
  }
  setInterval(refreshAges, 5000);
  document.addEventListener("DOMContentLoaded", refreshAges);

  // --- after a swap: announce, focus -----------------------------------------------------------
  function announce(text) {
    var region = document.getElementById("live-region");
    if (!region || !text) { return; }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }
  document.addEventListener("htmx:afterSwap", function (evt) {
    refreshAges();
  });
  document.addEventListener("htmx:afterSettle", function (evt) {
    var root = evt.detail.elt;
    if (!root || !root.querySelector) { return; }
    function find(selector) { return root.matches(selector) ? root : root.querySelector(selector); }
    var speaker = find("[data-announce]");
    if (speaker) { announce(speaker.getAttribute("data-announce")); }
    // A plain poll carries neither attribute: focus stays where the user left it.
    var focusable = find("[data-focus]");
    if (focusable) {
      var invalid = focusable.querySelector("[aria-invalid=true]");
      (invalid || focusable).focus();
    } else if (focusWasLost() && root.hasAttribute("tabindex") && !triggeredByPoll(evt)) {
      // e.g. Cancel replaced the form holding the focus with the card: keep keyboard users in place
      root.focus();
    }
  });
  function focusWasLost() {
    return !document.activeElement || document.activeElement === document.body;
  }
  function triggeredByPoll(evt) {
    var config = evt.detail.requestConfig;
    return !!(config && config.elt && config.elt.hasAttribute && config.elt.hasAttribute("data-poll"));
  }

  // --- expired session during an htmx request ----------------------------------------------------
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    var login = meta("login-url");
    if (xhr && login && xhr.responseURL && new URL(xhr.responseURL).pathname === login) {
      evt.detail.shouldSwap = false;
      window.location.assign(login + "?next=" + encodeURIComponent(window.location.pathname + window.location.search));
    }
  });

  // --- failed htmx requests ------------------------------------------------------------------------
  // htmx swaps only 2xx answers: without this a 403, 404 or 500 to a click would show nothing at all.
  // Our error pages say what happened (their heading and first paragraph, already translated); for
  // any other answer, or none, the page's own generic message (the <meta>s in base.html) is used.
  function errorPageText(xhr) {
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var heading = doc.querySelector(".error-page h1");
      var detail = heading && heading.nextElementSibling;
      if (heading) { return heading.textContent.trim() + (detail ? " " + detail.textContent.trim() : ""); }
    } catch (e) { /* not HTML: fall back to the generic message */ }
    return "";
  }
  function showRequestError(text) {
    var main = document.getElementById("main");
    if (!main || !text) { return; }
    var box = document.getElementById("request-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "request-error";
      box.className = "alert alert--error";
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = text;  // text only: the answer's markup is never inserted
    announce(text);
  }
  // --- a card's own refresh never undoes a click on it -------------------------------------------
  // A card refreshes itself (its poll, or "storage-refresh"), and a click on it (Edit, Disable…)
  // replaces it too. Whichever answers second must not undo the first:
  // - a refresh that answers while a click on the card still waits is dropped (the next one comes);
  // - a refresh of a card that a click has already replaced is dropped;
  // - a click whose card a refresh replaced meanwhile goes into the new card.
  // htmx fires beforeSwap on the target, and a replaced card is no longer in the page, so the events
  // never reach the document: each card gets its own listener.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    var card = elt && elt.closest && !elt.hasAttribute("data-poll") ? elt.closest("[data-poll]") : null;
    if (!card || evt.defaultPrevented) { return; }
    card.pendingClicks = (card.pendingClicks || 0) + 1;
    evt.detail.xhr.addEventListener("loadend", function () { card.pendingClicks -= 1; });
  });
  function guardCard(card) {
    if (card.cardGuarded) { return; }
    card.cardGuarded = true;
    card.addEventListener("htmx:beforeSwap", function (evt) {
      if (evt.detail.target !== card) { return; }
      var inPage = document.body.contains(card);
      if (triggeredByPoll(evt)) {
        if (!inPage || card.pendingClicks > 0) { evt.detail.shouldSwap = false; }
      } else if (!inPage) {
        var live = document.getElementById(card.id);
        if (live) { evt.detail.target = live; } else { evt.detail.shouldSwap = false; }
      }
    });
  }
  document.addEventListener("htmx:load", function (evt) {
    var root = evt.detail.elt;
    if (!root || !root.querySelectorAll) { return; }
    if (root.hasAttribute("data-poll")) { guardCard(root); }
    root.querySelectorAll("[data-poll]").forEach(guardCard);
  });

  document.addEventListener("htmx:responseError", function (evt) {
    showRequestError(errorPageText(evt.detail.xhr) || meta("request-error-message"));
  });
  document.addEventListener("htmx:sendError", function () {
    showRequestError(meta("network-error-message"));
  });

})();
