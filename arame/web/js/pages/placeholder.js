// A page not written yet: its place in the nav, and the CLI command that
// does the job meanwhile. Replace its ROUTES entry with the real page.

import { h } from '../dom.js';
import { pageHeader, section } from '../components.js';

export function placeholder(title, command) {
  const page = {
    title,
    render(ctx) {
      ctx.el.append(
        pageHeader(title),
        section('Coming soon', [
          h('p', null, `The ${title} page is not in the dashboard yet. Meanwhile the CLI does it:`),
          h('pre', { class: 'code' }, command),
        ]),
      );
    },
  };
  return () => Promise.resolve({ default: page });
}
