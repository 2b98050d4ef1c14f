// detsearch dashboard: ES modules served as they are (no build step), charts by Chart.js from
// /vendor, everything read from the REST API of the same origin.
import { apiKey } from './api.js';
import { createRouter } from './router.js';
import { homePage } from './views/home.js';
import { searchPage } from './views/search.js';
import { trialPage } from './views/trial.js';

const keyInput = document.getElementById('api-key');
keyInput.value = apiKey.get();
keyInput.addEventListener('change', () => apiKey.set(keyInput.value));
document.getElementById('key-form').addEventListener('submit', (e) => e.preventDefault());

const router = createRouter(
  [
    { pattern: /^\/searches\/([\w-]+)\/?$/, view: searchPage },
    { pattern: /^\/trials\/([\w-]+)\/?$/, view: trialPage },
    { pattern: /^\/clone\/([\w-]+)\/?$/, view: homePage },
    { pattern: /^\/?$/, view: homePage },
  ],
  document.getElementById('view'),
);
router.render();
