// Every page of the dashboard: its route and its place in the nav.
//
// To add a page: write pages/<name>.js (default export {title, render}),
// add its route(s) to ROUTES, and replace its placeholder (or add an
// entry) in NAV. See doc/source/contributor/dashboard.rst.

import { placeholder } from './placeholder.js';

/** The left nav, in order. `admin: true`: shown to admins only. `match`:
 *  the paths that light the link up (its own and its detail pages). */
export const NAV = [
  { label: 'Overview', path: '/overview', icon: 'overview' },
  { label: 'Instances', path: '/instances', icon: 'instances' },
  { label: 'Volumes', path: '/volumes', icon: 'volumes' },
  { label: 'Images', path: '/images', icon: 'images' },
  { label: 'Networks', path: '/networks', icon: 'networks' },
  { label: 'Routers', path: '/routers', icon: 'routers' },
  { label: 'Floating IPs', path: '/floating-ips', icon: 'floating' },
  { label: 'Security groups', path: '/security-groups', icon: 'security' },
  { label: 'Key pairs', path: '/key-pairs', icon: 'keys' },
  { label: 'Unit groups', path: '/unit-groups', icon: 'units' },
  { label: 'Admin', path: '/admin', icon: 'admin', admin: true },
];

/** [pattern, loader]: the loader imports the page's module on first
 *  visit. */
export const ROUTES = [
  ['/overview', () => import('./overview.js')],
  ['/instances', () => import('./instances.js')],
  ['/instances/:id', () => import('./instance.js')],
  ['/volumes', () => import('./volumes.js')],
  ['/volumes/:id', () => import('./volume.js')],
  ['/images', () => import('./images.js')],
  ['/networks', () => import('./networks.js')],
  ['/routers', () => import('./routers.js')],
  ['/floating-ips', () => import('./floating-ips.js')],
  ['/security-groups', () => import('./security-groups.js')],
  ['/security-groups/:id', () => import('./security-group.js')],
  ['/key-pairs', () => import('./key-pairs.js')],
  ['/unit-groups', () => import('./unit-groups.js')],
  ['/unit-groups/:id', () => import('./unit-group.js')],
  ['/admin', () => import('./admin.js')],
];
