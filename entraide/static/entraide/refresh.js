/* Pages that follow a background task: the part that changes ([data-refresh-seconds]) is fetched
   again every few seconds and swapped in place, instead of the whole page being reloaded (a timed
   reload takes a screen reader back to the top of the page: WCAG 2.2.1). The part is a live
   region, busy while the task runs, so that its outcome is read out once. Without JavaScript, a
   link in it shows the latest progress. */
(function () {
  "use strict";

  function follow(region) {
    var seconds = Number(region.getAttribute("data-refresh-seconds")) || 2;
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .catch(function () {
          return null; // the network hiccuped: try again
        })
        .then(function (html) {
          var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
          if (fresh) {
            region.innerHTML = fresh.innerHTML;
            if (!fresh.hasAttribute("data-refresh-seconds")) {
              region.removeAttribute("data-refresh-seconds");
              region.setAttribute("aria-busy", "false");
              return;
            }
          }
          follow(region);
        });
    }, seconds * 1000);
  }

  document.querySelectorAll("[data-refresh-seconds]").forEach(follow);
})();
