// Small behaviours the pages need without inline script (the Content-Security-Policy forbids it).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = source.value !== undefined ? source.value : source.textContent;
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else {  // no Clipboard API outside a secure context: copy a selection of the text instead
    if (source.select) {
      source.select();
    } else {
      const range = document.createRange();
      range.selectNodeContents(source);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
    }
    document.execCommand("copy");
    done();
  }
});

document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm || (event.submitter && event.submitter.dataset.confirm);
  if (message && !window.confirm(message)) event.preventDefault();
});

// A page sends one form: a double-click's second submit (a second key, a second Checkout) is dropped and the
// button shows it is busy, also when htmx has meanwhile replaced the form (the Subscriptions section refreshes
// itself as the page loads). htmx sends its own forms (it prevents the browser's submit). Coming back with the
// browser's Back button (a page kept in its cache) or ten seconds without an answer let a form be sent again.
let leaving = null;
document.addEventListener("submit", (event) => {
  if (event.defaultPrevented || event.target.method !== "post") return;
  if (leaving) {
    event.preventDefault();
    return;
  }
  leaving = event.submitter || event.target;
  leaving.setAttribute("aria-busy", "true");
  setTimeout(stay, 10000);
});
function stay() {
  if (leaving) leaving.removeAttribute("aria-busy");
  leaving = null;
}
window.addEventListener("pageshow", (event) => {
  if (event.persisted) stay();  // not the first load's pageshow, which may come after a quick first click
});

// Times: the page says UTC (all a browser without script shows); here each <time data-local> is shown in the
// viewer's own time zone, in the pages' one format (2026-12-05 14:30, then the zone's short name, as "UTC" is),
// with the UTC time kept as its tooltip. Again after every htmx swap.
const localTimes = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  timeZoneName: "short", calendar: "gregory", numberingSystem: "latn",  // the days' calendar and digits
});
function localTime(moment) {
  const part = Object.fromEntries(localTimes.formatToParts(moment).map(({ type, value }) => [type, value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} ${part.timeZoneName}`;
}
function showLocalTimes(root) {
  root.querySelectorAll("time[data-local]").forEach((element) => {
    const moment = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) return;
    element.title = element.textContent;
    element.textContent = localTime(moment);
    element.removeAttribute("data-local");
  });
}
document.addEventListener("DOMContentLoaded", () => showLocalTimes(document));
document.addEventListener("htmx:afterSwap", (event) => showLocalTimes(event.target));

// A form sent back with errors: its first wrong field gets the focus, which brings it into view (the page may be
// long, and the form far down it, as on the key's page or Settings) and lets a keyboard user fix it at once.
document.addEventListener("DOMContentLoaded", () => {
  const wrong = document.querySelector("main [aria-invalid='true']");
  if (wrong && !document.querySelector("[autofocus]")) wrong.focus();
});

// Escape closes an open menu (the account menus are <details>) and gives the focus back to its button.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = document.querySelector("details[open].account-menu");
  if (!open) return;
  open.removeAttribute("open");
  open.querySelector("summary").focus();
});

// A button that htmx replaced (Reveal, say) takes the keyboard focus with it: its replacement marks the element to
// focus instead, so that the focus does not fall back to the start of the page.
document.addEventListener("htmx:afterSettle", () => {
  const next = document.querySelector("[data-focus-on-swap]");
  if (!next) return;
  next.removeAttribute("data-focus-on-swap");
  next.focus();
});

// A key form's product chosen: the feature switches take that product's names (each option carries them), so that
// no feature is switched on under another product's name.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (!(select instanceof HTMLSelectElement)) return;
  const option = select.selectedOptions[0];
  if (!option || !option.dataset.featureNames) return;
  JSON.parse(option.dataset.featureNames).forEach((name, index) => {
    const input = select.form && select.form.querySelector(`input[name="f${index + 1}"]`);
    const label = input && input.closest("label");
    if (!label) return;
    label.lastChild.textContent = " " + name;
  });
});

// A request an element sends by itself (the Subscriptions page's refresh as it loads) that fails: its "…" line says
// so rather than staying, and the element is no longer busy.
function sayFailed(event) {
  const element = event.detail.elt;
  if (!element || !element.dataset || !element.dataset.failedMessage) return;
  const pending = element.querySelector("[data-pending]");
  if (pending) pending.textContent = element.dataset.failedMessage;
  element.removeAttribute("aria-busy");
}
document.addEventListener("htmx:responseError", sayFailed);
document.addEventListener("htmx:sendError", sayFailed);

// A part of the page answered with a message of its own ("New association link made", say): the messages shown at
// the top when the page loaded are about what came before it, and would now mislead, so they go.
// Only an answer to the user's own action: a part that refreshes itself as the page loads leaves them.
document.addEventListener("htmx:afterSwap", (event) => {
  const source = event.detail.elt;
  if (source && source.getAttribute && (source.getAttribute("hx-trigger") || "").includes("load")) return;
  const part = event.target;
  if (!part.querySelector || !(part.matches(".flash") || part.querySelector(".flash"))) return;
  document.querySelectorAll("main > .flashes").forEach((flashes) => flashes.remove());
});
