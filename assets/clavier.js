// Keyboard help shared by every Reflex page (RGAA 12.7 and 7.1; see docs/accessibilite.md). Loaded once by the
// head of each page (rdv_app/rdv_app.py); no state, no network.
(function () {
  "use strict";
  var DIALOGS = '[role="dialog"], [role="alertdialog"]';
  // The last element focused outside any dialog: the control that opened the one now open.
  var opener = null;

  function main() {
    return document.getElementById("contenu");
  }

  // Reflex writes "#id" as "/<route>/#id": the same page, whatever its trailing slash.
  function samePage(link) {
    return link.origin === window.location.origin &&
      link.pathname.replace(/\/$/, "") === window.location.pathname.replace(/\/$/, "");
  }

  function openDialog() {
    return document.querySelector(DIALOGS);
  }

  function focusable(element) {
    return element && element.isConnected && !element.disabled && element.getClientRects().length > 0;
  }

  // A link to an anchor of the page ("Aller au contenu", an error summary's link to its field): the router
  // would turn it into a navigation to `/<route>/#id`, losing the page's state; move the focus there instead.
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest('a[href*="#"]') : null;
    if (link && link.hash && samePage(link)) {
      var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (target) {
        event.preventDefault();
        if (!target.matches("a[href], button, input, select, textarea, [tabindex]")) {
          target.setAttribute("tabindex", "-1");
        }
        target.focus();
      }
      return;
    }
    // "Réessayer" on the connection banner (rdv_app/components/connection.py).
    if (event.target instanceof Element && event.target.closest("[data-reload-page]")) {
      window.location.reload();
    }
  }, true);

  document.addEventListener("focusin", function (event) {
    if (event.target instanceof Element && event.target !== document.body && !event.target.closest(DIALOGS)) {
      opener = event.target;
    }
  });

  // A dialog closed (Radix removes its portal from <body>) and focus fell to <body>: back to its opener, or,
  // when the opener went away with what the dialog changed, to the main region.
  function restoreFocus() {
    if (openDialog() || (document.activeElement && document.activeElement !== document.body)) {
      return;
    }
    var target = focusable(opener) ? opener : main();
    if (target) {
      target.focus();
    }
  }

  function watch() {
    var wasOpen = false;
    new MutationObserver(function () {
      var isOpen = Boolean(openDialog());
      if (wasOpen && !isOpen) {
        window.requestAnimationFrame(restoreFocus);
      }
      wasOpen = isOpen;
    }).observe(document.body, { childList: true });
  }

  if (document.body) {
    watch();
  } else {
    document.addEventListener("DOMContentLoaded", watch);
  }
})();
