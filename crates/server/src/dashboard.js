// The dashboard's one script (served at /dashboard/dashboard.js): keeps the page live and
// sends the controls without leaving it. Every `data-poll` milliseconds it fetches the page again and puts its live part (#live) in place of this
// one's when it differs; a control's form is posted in the background, and the page the
// server sends back gives the outcome (#notice) and the live part. Without this script the
// page still works: forms post and come back, and a reload shows what changed.
'use strict';

(function () {
  const live = document.getElementById('live');
  if (!live) return;
  const interval = Number(document.body.dataset.poll) || 1000;
  let busy = false;

  function parse(text) {
    return new DOMParser().parseFromString(text, 'text/html');
  }

  function swapLive(page) {
    const fresh = page.getElementById('live');
    if (fresh && fresh.innerHTML !== live.innerHTML) live.innerHTML = fresh.innerHTML;
  }

  async function poll() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const response = await fetch(location.href, { credentials: 'same-origin', cache: 'no-store' });
      if (response.ok) swapLive(parse(await response.text()));
    } catch (error) {
      // The server may be restarting: the next poll tries again.
    } finally {
      busy = false;
    }
  }

  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== 'post') return;
    event.preventDefault();
    const body = new URLSearchParams(new FormData(form, event.submitter));
    for (const button of form.querySelectorAll('button')) button.disabled = true;
    busy = true;
    try {
      const response = await fetch(form.action, { method: 'POST', body, credentials: 'same-origin' });
      const page = parse(await response.text());
      const notice = page.getElementById('notice');
      const here = document.getElementById('notice');
      if (notice && here) here.replaceWith(notice);
      swapLive(page);
    } catch (error) {
      const here = document.getElementById('notice');
      if (here) here.textContent = 'The server did not answer: ' + error;
    } finally {
      for (const button of form.querySelectorAll('button')) button.disabled = false;
      busy = false;
    }
  });

  setInterval(poll, interval);
})();
