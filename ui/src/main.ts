import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { tauriBackend } from './lib/backend';

// A file dropped anywhere but on a conversation is not opened by the window (which would
// leave the app); the conversation takes its own drops.
for (const type of ['dragover', 'drop'] as const) {
  window.addEventListener(type, (e) => e.preventDefault());
}

const target = document.getElementById('app');
if (!target) throw new Error('no #app element');
mount(App, { target, props: { backend: tauriBackend } });
