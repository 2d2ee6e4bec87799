// Small line icons for the nav, drawn for Arame (24x24, stroked with the
// text colour). icon(name) -> an SVG element hidden from screen readers:
// the link's words name it.

import { svg } from './dom.js';

const SHAPES = {
  overview: [['rect', { x: 3, y: 3, width: 7, height: 9, rx: 1.5 }], ['rect', { x: 14, y: 3, width: 7, height: 5, rx: 1.5 }], ['rect', { x: 14, y: 12, width: 7, height: 9, rx: 1.5 }], ['rect', { x: 3, y: 16, width: 7, height: 5, rx: 1.5 }]],
  instances: [['rect', { x: 3, y: 4, width: 18, height: 7, rx: 1.5 }], ['rect', { x: 3, y: 13, width: 18, height: 7, rx: 1.5 }], ['path', { d: 'M7 7.5h.01M7 16.5h.01' }]],
  volumes: [['ellipse', { cx: 12, cy: 5.5, rx: 8, ry: 2.5 }], ['path', { d: 'M4 5.5v13c0 1.4 3.6 2.5 8 2.5s8-1.1 8-2.5v-13M4 12c0 1.4 3.6 2.5 8 2.5s8-1.1 8-2.5' }]],
  images: [['path', { d: 'M12 3 3 8l9 5 9-5-9-5z' }], ['path', { d: 'm3 13 9 5 9-5' }], ['path', { d: 'm3 17.5 9 4.5 9-4.5' }]],
  networks: [['circle', { cx: 12, cy: 5, r: 2.5 }], ['circle', { cx: 5, cy: 19, r: 2.5 }], ['circle', { cx: 19, cy: 19, r: 2.5 }], ['path', { d: 'M12 7.5v5M12 12.5 6.5 17M12 12.5l5.5 4.5' }]],
  routers: [['circle', { cx: 12, cy: 12, r: 8.5 }], ['path', { d: 'M12 5.5v4M12 14.5v4M5.5 12h4M14.5 12h4M10.5 7 12 5.5 13.5 7M10.5 17l1.5 1.5 1.5-1.5M7 10.5 5.5 12 7 13.5M17 10.5l1.5 1.5-1.5 1.5' }]],
  floating: [['circle', { cx: 12, cy: 10, r: 3 }], ['path', { d: 'M12 21s-6.5-5.6-6.5-11a6.5 6.5 0 0 1 13 0c0 5.4-6.5 11-6.5 11z' }]],
  security: [['path', { d: 'M12 3 4.5 6v5.5c0 4.6 3.2 8.2 7.5 9.5 4.3-1.3 7.5-4.9 7.5-9.5V6L12 3z' }]],
  keys: [['circle', { cx: 8, cy: 15, r: 4 }], ['path', { d: 'm11 12 9-9M17 6l2.5 2.5M14.5 8.5 16.5 10.5' }]],
  units: [['rect', { x: 3, y: 3, width: 8, height: 8, rx: 1.5 }], ['rect', { x: 13, y: 3, width: 8, height: 8, rx: 1.5 }], ['rect', { x: 3, y: 13, width: 8, height: 8, rx: 1.5 }], ['rect', { x: 13, y: 13, width: 8, height: 8, rx: 1.5 }]],
  admin: [['circle', { cx: 12, cy: 12, r: 3 }], ['path', { d: 'M12 2.5v3M12 18.5v3M2.5 12h3M18.5 12h3M5.3 5.3l2.1 2.1M16.6 16.6l2.1 2.1M5.3 18.7l2.1-2.1M16.6 7.4l2.1-2.1' }]],
  signout: [['path', { d: 'M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3M10 16l-4-4 4-4M6 12h10' }]],
};

export function icon(name) {
  return svg(
    'svg',
    { viewBox: '0 0 24 24', class: 'icon', 'aria-hidden': 'true', focusable: 'false' },
    (SHAPES[name] || []).map(([tag, attrs]) => svg(tag, attrs)),
  );
}
