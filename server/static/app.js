// Progressive enhancement only: every page works without this file.
import { initAll } from "/static/vendor/nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
// Content swapped in by htmx gets the same component behaviour as the first render.
document.body.addEventListener("htmx:afterSwap", (event) => initAll({ scope: event.target }));
// htmx requests carry the page's CSRF token as a header (forms also carry it as a hidden field).
document.body.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]')?.content;
  if (token) event.detail.headers["X-CSRF-Token"] = token;
});
